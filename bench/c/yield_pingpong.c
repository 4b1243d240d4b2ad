/*
 * Exercises the context switch: two threads bound to CPU take turns through
 * sched_yield alone. Each passes the turn and yields until it comes back, so
 * every switch hands the turn over; N switches, prints ns/op (per switch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* Whose turn it is: 0 the main thread, 1 the partner. */
static _Atomic int turn;
static long rounds;
static int cpu;

/* Both threads must share the CPU, or the yields would not switch between them. */
static void check_cpu(const char *who)
{
	unsigned on = ~0u;
	if (syscall(SYS_getcpu, &on, NULL, NULL) < 0) {
		fprintf(stderr, "yield_pingpong: getcpu: %s\n", strerror(errno));
		exit(1);
	}
	if (on != (unsigned)cpu) {
		fprintf(stderr, "yield_pingpong: %s thread bound to CPU %d runs on CPU %u\n", who, cpu, on);
		exit(1);
	}
}

static void wait_turn(int me)
{
	while (atomic_load(&turn) != me)
		if (sched_yield() < 0) {
			fprintf(stderr, "yield_pingpong: sched_yield: %s\n", strerror(errno));
			exit(1);
		}
}

/* k times: wait for the turn, then pass it on. */
static void take_turns(int me, long k)
{
	for (long i = 0; i < k; i++) {
		wait_turn(me);
		atomic_store(&turn, !me);
	}
}

static void *partner(void *arg)
{
	(void)arg;
	check_cpu("second");
	/* The first turn is the untimed warm-up. */
	take_turns(1, rounds + 1);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: yield_pingpong CPU N\n");
		return 2;
	}
	cpu = atoi(argv[1]);
	long n = atol(argv[2]);
	if (cpu < 0 || cpu >= CPU_SETSIZE || n <= 0) {
		fprintf(stderr, "usage: yield_pingpong CPU N\n");
		return 2;
	}
	/* Each round is two switches, one each way. */
	rounds = (n + 1) / 2;
	/* The partner inherits the binding. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		fprintf(stderr, "yield_pingpong: sched_setaffinity: %s\n", strerror(errno));
		return 1;
	}
	check_cpu("first");
	pthread_t t;
	int err = pthread_create(&t, NULL, partner, NULL);
	if (err) {
		fprintf(stderr, "yield_pingpong: pthread_create: %s\n", strerror(err));
		return 1;
	}
	/* Untimed: the partner has started and taken its first turn once this returns. */
	take_turns(0, 1);
	wait_turn(0);
	double t0 = now_ns();
	take_turns(0, rounds);
	wait_turn(0);
	double t1 = now_ns();
	if ((err = pthread_join(t, NULL))) {
		fprintf(stderr, "yield_pingpong: pthread_join: %s\n", strerror(err));
		return 1;
	}
	report("op", t0, t1, 2 * rounds);
	return 0;
}
