/*
 * Exercises thread wake-up through futexes: two threads, bound to CPU1 and
 * CPU2 (the same CPU for a one-CPU ping-pong), pass a turn back and forth
 * with FUTEX_WAKE and FUTEX_WAIT on a shared word, N round trips, prints ns/op
 * (per round trip).
 *
 * By default the word also says whether the other thread waits, and a pass
 * calls FUTEX_WAKE only then, as glibc's locks, semaphores and condition
 * variables do (Drepper, "Futexes Are Tricky"). With "always" every pass
 * calls FUTEX_WAKE, whether anyone waits or not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* Bit 0: whose turn, 0 the main thread's, 1 the partner's. */
static _Atomic uint32_t word;
/* The thread whose turn it is not sleeps, or is about to. */
#define WAITING 2u
static long n;
static int cpu2;
static int always;

/* Either thread may fail; exit ends both, so the other never waits in vain. */
static void die(const char *what)
{
	fprintf(stderr, "futex_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * The calling thread only: sched_setaffinity(0) binds one thread. The getcpu
 * syscall checks where it runs, which sched_getcpu (rseq, vDSO) might not ask.
 */
static void bind(int cpu, const char *who)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		die("sched_setaffinity");
	unsigned on = ~0u;
	if (syscall(SYS_getcpu, &on, NULL, NULL) < 0)
		die("getcpu");
	if (on != (unsigned)cpu) {
		fprintf(stderr, "futex_pingpong: %s thread bound to CPU %d runs on CPU %u\n", who, cpu, on);
		exit(1);
	}
}

/* The private forms of FUTEX_WAIT and FUTEX_WAKE, as pthreads use them. */
static void wait_turn(uint32_t want)
{
	uint32_t v;
	while (((v = atomic_load(&word)) & 1) != want) {
		/* Say so before sleeping: a pass after this sees it and wakes. */
		if (!always && !(v & WAITING) && !atomic_compare_exchange_strong(&word, &v, v | WAITING))
			continue;
		if (!always)
			v |= WAITING;
		if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			die("FUTEX_WAIT");
	}
}

static void pass_turn(uint32_t to)
{
	uint32_t old = atomic_exchange(&word, to);
	if ((always || (old & WAITING)) &&
	    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
		die("FUTEX_WAKE");
}

static void *partner(void *arg)
{
	(void)arg;
	bind(cpu2, "second");
	/* The first round trip is main's untimed warm-up. */
	for (long i = 0; i <= n; i++) {
		wait_turn(1);
		pass_turn(0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	always = argc == 5 && strcmp(argv[4], "always") == 0;
	if (argc != 4 && !always) {
		fprintf(stderr, "usage: futex_pingpong CPU1 CPU2 N [always]\n");
		return 2;
	}
	int cpu1 = atoi(argv[1]);
	cpu2 = atoi(argv[2]);
	n = atol(argv[3]);
	if (cpu1 < 0 || cpu1 >= CPU_SETSIZE || cpu2 < 0 || cpu2 >= CPU_SETSIZE || n <= 0) {
		fprintf(stderr, "usage: futex_pingpong CPU1 CPU2 N [always]\n");
		return 2;
	}
	bind(cpu1, "first");
	pthread_t t;
	int err = pthread_create(&t, NULL, partner, NULL);
	if (err) {
		fprintf(stderr, "futex_pingpong: pthread_create: %s\n", strerror(err));
		return 1;
	}
	/* Untimed: the partner has started and is bound once this returns. */
	pass_turn(1);
	wait_turn(0);
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pass_turn(1);
		wait_turn(0);
	}
	double t1 = now_ns();
	if ((err = pthread_join(t, NULL))) {
		fprintf(stderr, "futex_pingpong: pthread_join: %s\n", strerror(err));
		return 1;
	}
	report("op", t0, t1, n);
	return 0;
}
