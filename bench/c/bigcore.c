// cflags: -pthread
/*
 * A process with MiB of memory populated, for lwkbench's core dump figures
 * (12 and 13). It fills every page with pseudo-random words, never zero, so
 * that no writer may skip a page and no layer below (the file system, the
 * VM's disk) may compress it, then:
 *
 *   bigcore MiB crash  prints "ready PID T" and dies of SIGSEGV at once;
 *   bigcore MiB wait   starts a thread spinning on clock_gettime
 *                      (CLOCK_MONOTONIC, the vDSO: no system call) that
 *                      records the largest gap between two readings, prints
 *                      "ready PID T", and at a line on stdin prints
 *                      "gap NS" (the largest gap since the thread started)
 *                      and exits.
 *
 * PID is getpid() (under mcexec, the LWK pid that mcgcore takes) and T the
 * CLOCK_MONOTONIC time in ns when it was printed: a crash's core write is
 * timed from T to the parent's wait, without the populating.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

static atomic_int started;
static _Atomic double maxgap;

static void *spin(void *arg)
{
	(void)arg;
	double prev = now_ns(), gap = 0;
	atomic_store(&started, 1);
	for (;;) {
		double t = now_ns();
		if (t - prev > gap) {
			gap = t - prev;
			atomic_store(&maxgap, gap);
		}
		prev = t;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long mib = argc > 2 ? atol(argv[1]) : 0;
	int crash = argc > 2 && strcmp(argv[2], "crash") == 0;
	if (mib <= 0 || argc != 3 || (!crash && strcmp(argv[2], "wait") != 0)) {
		fprintf(stderr, "usage: bigcore MiB crash|wait\n");
		return 2;
	}
	size_t words = ((size_t)mib << 20) / sizeof(uint64_t);
	uint64_t *p = mmap(NULL, words * sizeof *p, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("bigcore: mmap");
		return 1;
	}
	/* xorshift64: never zero from a non-zero seed. */
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
	if (!crash) {
		pthread_t t;
		int err = pthread_create(&t, NULL, spin, NULL);
		if (err != 0) {
			fprintf(stderr, "bigcore: pthread_create: %s\n", strerror(err));
			return 1;
		}
		while (!atomic_load(&started))
			sched_yield();
	}
	printf("ready %ld %.0f\n", (long)getpid(), now_ns());
	fflush(stdout);
	if (crash) {
		/* A real fault: through a volatile pointer, gcc cannot turn the store into a trap (SIGILL). */
		volatile int *volatile bad = NULL;
		*bad = 0;
	}
	char line[64];
	if (fgets(line, sizeof line, stdin) == NULL) {
		fprintf(stderr, "bigcore: stdin closed before the gap was asked for\n");
		return 1;
	}
	printf("gap %.0f\n", atomic_load(&maxgap));
	fflush(stdout);
	/* The memory stays in use until the end, so that no compiler drops it. */
	return p[words - 1] == 0;
}
