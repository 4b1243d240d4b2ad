// mpishm: an MPI-3 shared-memory window. The ranks of a node
// (MPI_Comm_split_type MPI_COMM_TYPE_SHARED) allocate one window with
// MPI_Win_allocate_shared, each a segment; every rank writes its own
// segment, then, after a barrier inside a passive-target epoch, reads every
// other rank's segment through the address MPI_Win_shared_query gives,
// with loads, no MPI call. Rank 0 prints what it read.
// link: mpi
#include <mpi.h>
#include <stdio.h>

enum { WORDS = 4096 };

int main(int argc, char **argv) {
	MPI_Init(&argc, &argv);
	MPI_Comm node;
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
	int rank, size;
	MPI_Comm_rank(node, &rank);
	MPI_Comm_size(node, &size);
	long *mine;
	MPI_Win win;
	MPI_Win_allocate_shared(WORDS * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &mine, &win);
	MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
	for (int i = 0; i < WORDS; i++)
		mine[i] = (long)rank << 32 | i;
	MPI_Win_sync(win);
	MPI_Barrier(node);
	MPI_Win_sync(win);
	long seen = 0, wrong = 0;
	for (int r = 0; r < size; r++) {
		MPI_Aint len;
		int unit;
		long *theirs;
		MPI_Win_shared_query(win, r, &len, &unit, &theirs);
		for (int i = 0; i < WORDS; i++) {
			seen++;
			wrong += theirs[i] != ((long)r << 32 | i);
		}
	}
	MPI_Win_unlock_all(win);
	long total[2], mineCounts[2] = {seen, wrong};
	MPI_Reduce(mineCounts, total, 2, MPI_LONG, MPI_SUM, 0, node);
	if (rank == 0)
		printf("%d ranks share a window of %d words each: %ld words read, %ld wrong\n", size, WORDS, total[0], total[1]);
	MPI_Win_free(&win);
	MPI_Comm_free(&node);
	MPI_Finalize();
	return wrong != 0;
}
