/* Exercises the raw syscall round trip over time: getpid calls (local on the LWK), or 1-byte writes to /dev/null
   (offloaded) with "write", for S seconds, counted per W ms window, printed at the end. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "bench.h"

/* The clock is read every CHECK calls: a vDSO read, far cheaper than the calls. */
#define CHECK 64

/* glibc's getpid() is a real syscall today, but inline asm guarantees one trap per call. */
static inline long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
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
	int writes = argc > 3 && strcmp(argv[3], "write") == 0;
	if (secs <= 0 || win_ms <= 0 || secs * 1e3 / win_ms > 1e7 || (argc > 3 && !writes && strcmp(argv[3], "getpid") != 0)) {
		fprintf(stderr, "usage: syscall_windows SECONDS WINDOW_MS [getpid|write]\n");
		return 2;
	}
	/* Each call must return this: getpid's pid, or the 1 byte written. */
	long nr = SYS_getpid, fd = 0, want = raw_syscall3(SYS_getpid, 0, 0, 0);
	static const char byte;
	if (writes) {
		nr = SYS_write, want = 1;
		if ((fd = open("/dev/null", O_WRONLY)) < 0) {
			perror("syscall_windows: /dev/null");
			return 1;
		}
	}
	/* A window ends at the first check past its length, so there are fewer than this many. */
	long max = (long)(secs * 1e3 / win_ms) + 2;
	struct window *w = calloc(max, sizeof *w);
	if (w == NULL) {
		fprintf(stderr, "syscall_windows: out of memory\n");
		return 1;
	}
	long n = 0, calls = 0, total = 0;
	double t0 = now_ns(), end = t0 + secs * 1e9, next = t0 + win_ms * 1e6, t = t0;
	/* No I/O until the end: records go to memory. */
	while (t < end && n < max) {
		for (int i = 0; i < CHECK; i++)
			if (raw_syscall3(nr, fd, (long)&byte, 1) != want) {
				fprintf(stderr, "syscall_windows: call %ld returned another value\n", nr);
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
