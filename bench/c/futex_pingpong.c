/*
 * Exercises thread wake-up through futexes: two threads, bound to CPU1 and
 * CPU2 (the same CPU for a one-CPU ping-pong), pass a turn back and forth
 * with FUTEX_WAKE and FUTEX_WAIT on a shared word, N round trips, prints ns/op
 * (per round trip).
 *
 * By default the word also says whether the other thread waits, and a pass
 * calls FUTEX_WAKE only then, as glibc's locks, semaphores and condition
 * variables do (Drepper, "Futexes Are Tricky"). With "always" every pass
 * calls FUTEX_WAKE, whether anyone waits or not. With "procs" the partner
 * is a forked process and the word lies in MAP_SHARED memory, woken with
 * the shared futex operations, as process-shared locks are.
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
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Bit 0: whose turn, 0 the main thread's, 1 the partner's. */
static _Atomic uint32_t private_word;
static _Atomic uint32_t *wordp = &private_word;
#define word (*wordp)
/* The thread whose turn it is not sleeps, or is about to. */
#define WAITING 2u
static long n;
static int cpu2;
static int always;
static int wait_op = FUTEX_WAIT_PRIVATE, wake_op = FUTEX_WAKE_PRIVATE;

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

/* The private forms of FUTEX_WAIT and FUTEX_WAKE, as pthreads use them,
 * or the shared ones between processes. */
static void wait_turn(uint32_t want)
{
	uint32_t v;
	while (((v = atomic_load(&word)) & 1) != want) {
		/* Say so before sleeping: a pass after this sees it and wakes. */
		if (!always && !(v & WAITING) && !atomic_compare_exchange_strong(&word, &v, v | WAITING))
			continue;
		if (!always)
			v |= WAITING;
		if (syscall(SYS_futex, wordp, wait_op, v, NULL, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			die("FUTEX_WAIT");
	}
}

static void pass_turn(uint32_t to)
{
	uint32_t old = atomic_exchange(&word, to);
	if ((always || (old & WAITING)) &&
	    syscall(SYS_futex, wordp, wake_op, 1, NULL, NULL, 0) < 0)
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
	int procs = 0, bad = argc < 4;
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "always") == 0)
			always = 1;
		else if (strcmp(argv[i], "procs") == 0)
			procs = 1;
		else
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "usage: futex_pingpong CPU1 CPU2 N [always] [procs]\n");
		return 2;
	}
	int cpu1 = atoi(argv[1]);
	cpu2 = atoi(argv[2]);
	n = atol(argv[3]);
	if (cpu1 < 0 || cpu1 >= CPU_SETSIZE || cpu2 < 0 || cpu2 >= CPU_SETSIZE || n <= 0) {
		fprintf(stderr, "usage: futex_pingpong CPU1 CPU2 N [always] [procs]\n");
		return 2;
	}
	bind(cpu1, "first");
	pid_t child = 0;
	pthread_t t;
	if (procs) {
		void *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shared == MAP_FAILED)
			die("mmap");
		wordp = shared;
		wait_op = FUTEX_WAIT;
		wake_op = FUTEX_WAKE;
		if ((child = fork()) < 0)
			die("fork");
		if (child == 0) {
			partner(NULL);
			_exit(0);
		}
	} else {
		int err = pthread_create(&t, NULL, partner, NULL);
		if (err) {
			fprintf(stderr, "futex_pingpong: pthread_create: %s\n", strerror(err));
			return 1;
		}
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
	if (procs) {
		int st;
		if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("the partner process");
	} else {
		int err = pthread_join(t, NULL);
		if (err) {
			fprintf(stderr, "futex_pingpong: pthread_join: %s\n", strerror(err));
			return 1;
		}
	}
	report("op", t0, t1, n);
	return 0;
}
