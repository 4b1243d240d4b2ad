// cflags: -fopenmp
/* Exercises OpenMP (libgomp on pthreads, futexes and affinity): reductions, critical, atomic, barrier, the team size, dynamic scheduling, sections and tasks. Prints only results that do not depend on the number of threads. */
#define _GNU_SOURCE
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define N 1000000
#define MAXT 1024
static int squares[10000];
static int seen[MAXT];

static long fib(int n)
{
	long a, b;
	if (n < 2)
		return n;
#pragma omp task shared(a) if (n > 12)
	a = fib(n - 1);
#pragma omp task shared(b) if (n > 12)
	b = fib(n - 2);
#pragma omp taskwait
	return a + b;
}

int main(void)
{
	/* The team size libgomp should pick: OMP_NUM_THREADS if set, else the
	 * CPUs this process may run on. */
	int want;
	const char *env = getenv("OMP_NUM_THREADS");
	if (env && *env) {
		want = atoi(env);
	} else {
		cpu_set_t cpus;
		want = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : -1;
	}
	int nth = 0, badtid = 0;
#pragma omp parallel
	{
#pragma omp single
		nth = omp_get_num_threads();
		int tid = omp_get_thread_num();
		if (tid < 0 || tid >= omp_get_num_threads() || tid >= MAXT) {
#pragma omp atomic
			badtid++;
		}
	}
	printf("team size %s, thread numbers %s\n", nth == want ? "as expected" : "UNEXPECTED", badtid ? "WRONG" : "ok");
	if (nth > MAXT)
		return 1;

	long sum = 0;
	double dsum = 0;
#pragma omp parallel for reduction(+ : sum, dsum)
	for (long i = 1; i <= N; i++) {
		sum += i;
		dsum += (double)(i % 1000); /* exact in a double */
	}
	printf("reduction sum %ld dsum %.0f\n", sum, dsum);

	long crit = 0, atom = 0;
#pragma omp parallel for
	for (int i = 0; i < 100000; i++) {
#pragma omp critical
		crit += i % 7;
#pragma omp atomic
		atom += 2;
	}
	printf("critical %ld atomic %ld\n", crit, atom);

	/* Barrier: nobody checks the slots before every thread has written. */
	int barbad = 0;
#pragma omp parallel
	{
		int tid = omp_get_thread_num(), n = omp_get_num_threads();
		for (int round = 1; round <= 50; round++) {
			seen[tid] = round;
#pragma omp barrier
			for (int i = 0; i < n; i++)
				if (seen[i] != round) {
#pragma omp atomic
					barbad++;
				}
#pragma omp barrier
		}
	}
	printf("barrier rounds 50 bad %d\n", barbad);

	long iters = 0;
#pragma omp parallel for schedule(dynamic, 7) reduction(+ : iters)
	for (int i = 0; i < 10000; i++) {
		squares[i] = i * i;
		iters++;
	}
	int sqbad = 0;
	for (int i = 0; i < 10000; i++)
		sqbad += squares[i] != i * i;
	printf("dynamic iterations %ld wrong %d\n", iters, sqbad);

	long s1 = 0, s2 = 0;
#pragma omp parallel sections
	{
#pragma omp section
		for (int i = 1; i <= 1000; i++)
			s1 += i;
#pragma omp section
		for (int i = 1; i <= 1000; i++)
			s2 += (long)i * i;
	}
	printf("sections %ld %ld\n", s1, s2);

	long f = 0;
#pragma omp parallel
#pragma omp single
	f = fib(25);
	printf("tasks fib(25) %ld\n", f);

	int ordered_bad = 0, next = 0;
#pragma omp parallel for ordered schedule(dynamic)
	for (int i = 0; i < 1000; i++) {
#pragma omp ordered
		{
			if (next != i)
				ordered_bad++;
			next++;
		}
	}
	printf("ordered %d wrong %d\n", next, ordered_bad);
	return 0;
}
