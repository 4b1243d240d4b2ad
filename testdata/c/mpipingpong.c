// mpipingpong: OSU-style ping-pong between ranks 0 and 1 (osu_latency,
// osu_bw). "mpipingpong SIZE ITERS": after ITERS/10 warm-up round trips,
// rank 0 times ITERS round trips of SIZE-byte messages (MPI_Send, then
// MPI_Recv of the echo) and prints one line, "SIZE B: LAT us one-way,
// BW MB/s", where LAT is half the mean round trip and BW is SIZE bytes
// each way over that half (decimal MB, as OSU reports).
// link: mpi
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 3 || size < 2) {
		if (rank == 0)
			fprintf(stderr, "usage: mpirun -n 2 mpipingpong SIZE ITERS\n");
		MPI_Finalize();
		return 2;
	}
	long n = atol(argv[1]);
	int iters = atoi(argv[2]), warm = iters / 10 + 1;
	char *buf = malloc(n > 0 ? n : 1);
	memset(buf, rank, n);
	double start = 0;
	for (int i = 0; i < warm + iters; i++) {
		if (i == warm) {
			MPI_Barrier(MPI_COMM_WORLD);
			start = MPI_Wtime();
		}
		if (rank == 0) {
			MPI_Send(buf, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
			MPI_Recv(buf, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else if (rank == 1) {
			MPI_Recv(buf, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MPI_Send(buf, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
		}
	}
	double half = (MPI_Wtime() - start) / iters / 2;
	if (rank == 0)
		printf("%ld B: %.3f us one-way, %.2f MB/s\n", n, half * 1e6, n / half / 1e6);
	MPI_Finalize();
	return 0;
}
