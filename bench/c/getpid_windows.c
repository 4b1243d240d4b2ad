/* Exercises the raw syscall round trip over time: getpid calls for S seconds, counted per W ms window, printed at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "bench.h"

/* The clock is read every CHECK calls: a vDSO read, far cheaper than the calls. */
#define CHECK 64

/* glibc's getpid() is a real syscall today, but inline asm guarantees one trap per call. */
static inline long raw_getpid(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
	return ret;
}

/* A window: the calls made from the end of the previous one (or t0) to end, in CLOCK_MONOTONIC ns. */
struct window {
	double end;
	long calls;
};

int main(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[1]) : 0;
	double win_ms = argc > 2 ? atof(argv[2]) : 0;
	if (secs <= 0 || win_ms <= 0 || secs * 1e3 / win_ms > 1e7) {
		fprintf(stderr, "usage: getpid_windows SECONDS WINDOW_MS\n");
		return 2;
	}
	/* A window ends at the first check past its length, so there are fewer than this many. */
	long max = (long)(secs * 1e3 / win_ms) + 2;
	struct window *w = calloc(max, sizeof *w);
	if (w == NULL) {
		fprintf(stderr, "getpid_windows: out of memory\n");
		return 1;
	}
	long pid = raw_getpid(), n = 0, calls = 0, total = 0;
	double t0 = now_ns(), end = t0 + secs * 1e9, next = t0 + win_ms * 1e6, t = t0;
	/* No I/O until the end: records go to memory. */
	while (t < end && n < max) {
		for (int i = 0; i < CHECK; i++)
			if (raw_getpid() != pid) {
				fprintf(stderr, "getpid_windows: pid changed\n");
				return 1;
			}
		calls += CHECK;
		t = now_ns();
		if (t >= next || t >= end) {
			w[n].end = t;
			w[n++].calls = calls;
			total += calls;
			calls = 0;
			next = t + win_ms * 1e6;
		}
	}
	printf("t0 %.0f\n", t0);
	for (long i = 0; i < n; i++)
		printf("window %.0f %ld\n", w[i].end, w[i].calls);
	report("op", t0, t, total);
	return 0;
}
