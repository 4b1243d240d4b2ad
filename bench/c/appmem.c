// cflags: -lm
/*
 * A process with MiB of memory populated with data like a simulation
 * code's, for lwkbench's kernel dump figures (issue 16): compressible, as
 * an application's memory is, but not trivially. In sixteenths of MiB:
 *
 *   3/16 a smooth field: doubles of sin(x)cos(y) on a grid, at full
 *        precision (their low bits look random: zstd's fastest level
 *        stores them as they are);
 *   4/16 integers counting up: 64-bit cell numbers, as index arrays;
 *   3/16 a piecewise-constant field: doubles of a material property,
 *        one value per region of 64 KiB;
 *   3/16 mesh coordinates: the x of each grid point, each row the same;
 *   3/16 zero pages: work buffers, zeroed and never filled.
 *
 * It writes every page, prints "ready PID T" (as bigcore does: its pid
 * and CLOCK_MONOTONIC in ns) and exits at a line on stdin, so that the
 * bench dumps the instance while it holds the memory.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* Grid points per row, of the smooth field and the coordinates. */
#define ROW 1024

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 0;
	if (argc != 2 || mib <= 0 || mib % 16 != 0) {
		fprintf(stderr, "usage: appmem MiB (a multiple of 16)\n");
		return 2;
	}
	size_t len = (size_t)mib << 20, part = len / 16;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("appmem: mmap");
		return 1;
	}
	double *field = (double *)p;
	size_t n = 3 * part / sizeof(double);
	for (size_t i = 0; i < n; i++)
		field[i] = sin((double)(i % ROW) * 0.01) * cos((double)(i / ROW) * 0.01);

	int64_t *cells = (int64_t *)(p + 3 * part);
	n = 4 * part / sizeof(int64_t);
	for (size_t i = 0; i < n; i++)
		cells[i] = (int64_t)i;

	double *material = (double *)(p + 7 * part);
	n = 3 * part / sizeof(double);
	size_t region = (64 << 10) / sizeof(double);
	for (size_t i = 0; i < n; i++)
		material[i] = 1.0 + (double)((i / region) % 7) * 0.25;

	double *x = (double *)(p + 10 * part);
	n = 3 * part / sizeof(double);
	for (size_t i = 0; i < n; i++)
		x[i] = (double)(i % ROW) / ROW;

	/* Written, so populated, though zero. */
	memset(p + 13 * part, 0, 3 * part);

	printf("ready %ld %.0f\n", (long)getpid(), now_ns());
	fflush(stdout);
	char line[64];
	if (fgets(line, sizeof line, stdin) == NULL) {
		fprintf(stderr, "appmem: stdin closed before the end was asked for\n");
		return 1;
	}
	/* The memory stays in use until the end, so that no compiler drops it. */
	return field[1] == cells[1];
}
