/* Exercises thread creation: N rounds of pthread_create of a thread that returns at once and pthread_join, prints ns/op. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void *echo(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	if (n <= 0) {
		fprintf(stderr, "usage: thread_join N\n");
		return 2;
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		int err = pthread_create(&t, NULL, echo, (void *)i);
		if (err) {
			fprintf(stderr, "thread_join: pthread_create: %s\n", strerror(err));
			return 1;
		}
		if ((err = pthread_join(t, &ret))) {
			fprintf(stderr, "thread_join: pthread_join: %s\n", strerror(err));
			return 1;
		}
		if (ret != (void *)i) {
			fprintf(stderr, "thread_join: thread %ld returned %p\n", i, ret);
			return 1;
		}
	}
	double t1 = now_ns();
	report("op", t0, t1, n);
	return 0;
}
