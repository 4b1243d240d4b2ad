// mpiring: MPI point-to-point. A token goes round the ranks in a ring
// (blocking send and receive), then each rank swaps a buffer of every size
// from 1 byte to 1 MiB with its neighbours (MPI_Sendrecv, non-blocking
// Isend/Irecv with Waitall) and checks the contents. Rank 0 prints what
// every rank saw, so the output does not depend on which rank writes first.
// link: mpi
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const unsigned char *b, int n, int from, int round) {
	for (int i = 0; i < n; i++)
		if (b[i] != (unsigned char)(from * 31 + round + i))
			return 0;
	return 1;
}

static void fill(unsigned char *b, int n, int me, int round) {
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(me * 31 + round + i);
}

int main(int argc, char **argv) {
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int next = (rank + 1) % size, prev = (rank + size - 1) % size;

	// The token: each rank adds its rank and passes it on, 10 laps.
	long token = 0;
	for (int lap = 0; lap < 10; lap++) {
		if (rank == 0) {
			token += 1;
			MPI_Send(&token, 1, MPI_LONG, next, lap, MPI_COMM_WORLD);
			MPI_Recv(&token, 1, MPI_LONG, prev, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(&token, 1, MPI_LONG, prev, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			token += rank;
			MPI_Send(&token, 1, MPI_LONG, next, lap, MPI_COMM_WORLD);
		}
	}

	const int max = 1 << 20;
	unsigned char *out = malloc(max), *in = malloc(max);
	int ok = 1, round = 0;
	for (int n = 1; n <= max; n *= 4, round++) {
		fill(out, n, rank, round);
		memset(in, 0, n);
		MPI_Status st;
		MPI_Sendrecv(out, n, MPI_BYTE, next, round, in, n, MPI_BYTE, prev, round, MPI_COMM_WORLD, &st);
		int got;
		MPI_Get_count(&st, MPI_BYTE, &got);
		ok &= got == n && st.MPI_SOURCE == prev && check(in, n, prev, round);

		MPI_Request req[2];
		memset(in, 0, n);
		MPI_Irecv(in, n, MPI_BYTE, next, 100 + round, MPI_COMM_WORLD, &req[0]);
		MPI_Isend(out, n, MPI_BYTE, prev, 100 + round, MPI_COMM_WORLD, &req[1]);
		MPI_Status sts[2];
		MPI_Waitall(2, req, sts);
		ok &= check(in, n, next, round);
	}

	int *oks = malloc(size * sizeof *oks);
	MPI_Gather(&ok, 1, MPI_INT, oks, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		printf("ring of %d ranks: token %ld after 10 laps\n", size, token);
		for (int r = 0; r < size; r++)
			printf("rank %d: exchanges 1 B to 1 MiB %s\n", r, oks[r] ? "ok" : "CORRUPT");
	}
	MPI_Finalize();
	return ok ? 0 : 1;
}
