// mpicoll: MPI collectives on MPI_COMM_WORLD: barrier, broadcast, reduce,
// allreduce (sum, max, min over doubles and longs), alltoall, allgather
// and a scatter/gather round trip, each with values that depend on the
// rank so that a lost or misplaced contribution shows. Rank 0 prints the
// results; every rank checks what it can compute itself.
// link: mpi
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int bad = 0;

	for (int i = 0; i < 100; i++)
		MPI_Barrier(MPI_COMM_WORLD);

	// Broadcast from every root in turn.
	long word = 0;
	for (int root = 0; root < size; root++) {
		word = rank == root ? 1000 + root : -1;
		MPI_Bcast(&word, 1, MPI_LONG, root, MPI_COMM_WORLD);
		bad += word != 1000 + root;
	}
	enum { N = 1 << 16 };
	int *big = malloc(N * sizeof *big);
	for (int i = 0; i < N; i++)
		big[i] = rank == 0 ? i * 7 : 0;
	MPI_Bcast(big, N, MPI_INT, 0, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++)
		bad += big[i] != i * 7;

	// Reductions.
	long mine = rank + 1, sum = 0, all[3], in3[3] = {rank * rank, -rank, rank};
	MPI_Reduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
	long maxv, minv, prod;
	MPI_Allreduce(&in3[0], &maxv, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
	MPI_Allreduce(&in3[1], &minv, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&mine, &prod, 1, MPI_LONG, MPI_PROD, MPI_COMM_WORLD);
	MPI_Allreduce(in3, all, 3, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
	double x = 1.0 / (rank + 1), xs;
	MPI_Allreduce(&x, &xs, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	bad += maxv != (long)(size - 1) * (size - 1) || minv != -(size - 1) || all[2] != (long)size * (size - 1) / 2;

	// Alltoall: rank r sends r*100+d to rank d.
	int *to = malloc(size * sizeof *to), *from = malloc(size * sizeof *from);
	for (int d = 0; d < size; d++)
		to[d] = rank * 100 + d;
	MPI_Alltoall(to, 1, MPI_INT, from, 1, MPI_INT, MPI_COMM_WORLD);
	for (int s = 0; s < size; s++)
		bad += from[s] != s * 100 + rank;

	// Allgather and a scatter/gather round trip.
	int *ranks = malloc(size * sizeof *ranks);
	MPI_Allgather(&rank, 1, MPI_INT, ranks, 1, MPI_INT, MPI_COMM_WORLD);
	for (int s = 0; s < size; s++)
		bad += ranks[s] != s;
	int piece;
	MPI_Scatter(to, 1, MPI_INT, &piece, 1, MPI_INT, 0, MPI_COMM_WORLD);
	bad += piece != rank;
	piece *= 3;
	MPI_Gather(&piece, 1, MPI_INT, from, 1, MPI_INT, 0, MPI_COMM_WORLD);

	int bads = 0;
	MPI_Reduce(&bad, &bads, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		printf("%d ranks: barrier x100, bcast from each root ok\n", size);
		printf("reduce sum %ld, allreduce max %ld min %ld prod %ld, sums %ld %ld %ld, harmonic %.6f\n",
		       sum, maxv, minv, prod, all[0], all[1], all[2], xs);
		printf("scattered, tripled, gathered:");
		for (int s = 0; s < size; s++)
			printf(" %d", from[s]);
		printf("\nallgather:");
		for (int s = 0; s < size; s++)
			printf(" %d", ranks[s]);
		printf("\n%s\n", bads ? "MISMATCHES" : "all ranks agree");
	}
	MPI_Finalize();
	return bads != 0;
}
