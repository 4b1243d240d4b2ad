/*
 * The timing shared by the benchmark programs: each times its own loop, so
 * that process start-up stays out of the figure, and prints the time per
 * operation on a line that lwkbench parses ("ns/op 123.4").
 */
#include <stdio.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* report prints the time per unit ("op", "page") of n units from t0 to t1. */
static inline void report(const char *unit, double t0, double t1, double n)
{
	printf("ns/%s %.1f\n", unit, (t1 - t0) / n);
}
