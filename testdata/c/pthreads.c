/* Exercises pthreads: a mutex-protected counter, a condition-variable producer/consumer, barriers, __thread storage per thread, and 200 short-lived threads created and joined one at a time. argv[1] is how many threads may be alive besides main (default 2); the output does not depend on it. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* must stops the program when a thread cannot be created (the LWK refuses
   more threads than CPUs without mcreboot -O) instead of joining garbage. */
static void must(int err)
{
	if (err) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		exit(1);
	}
}

#define MAXT 64
static int nthreads = 2;

/* Mutex: every thread adds 1 ITER times under the lock. */
#define ITER 100000
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITER; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* Condition variables: main produces 1..ITEMS into a small ring, the
 * threads consume until they take a 0, one per consumer. */
#define ITEMS 10000
#define RING 4
static pthread_cond_t notempty = PTHREAD_COND_INITIALIZER, notfull = PTHREAD_COND_INITIALIZER;
static long ring[RING];
static int head, count;

static void put(long v)
{
	pthread_mutex_lock(&mu);
	while (count == RING)
		pthread_cond_wait(&notfull, &mu);
	ring[(head + count++) % RING] = v;
	pthread_cond_signal(&notempty);
	pthread_mutex_unlock(&mu);
}

static void *consumer(void *arg)
{
	long sum = 0, v;
	(void)arg;
	do {
		pthread_mutex_lock(&mu);
		while (count == 0)
			pthread_cond_wait(&notempty, &mu);
		v = ring[head];
		head = (head + 1) % RING;
		count--;
		pthread_cond_signal(&notfull);
		pthread_mutex_unlock(&mu);
		sum += v;
	} while (v != 0);
	return (void *)sum;
}

/* Barrier: in each round every thread writes its slot, waits, and checks
 * that it sees all slots of the round; exactly one gets the serial value. */
#define ROUNDS 100
static pthread_barrier_t bar;
static long slots[MAXT];
static int serials, bad;

static void *barrier_worker(void *arg)
{
	long id = (long)arg;
	for (long r = 1; r <= ROUNDS; r++) {
		slots[id] = r;
		int s = pthread_barrier_wait(&bar);
		for (int i = 0; i < nthreads; i++)
			if (slots[i] != r)
				__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		if (s == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
		else if (s != 0)
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&bar); /* nobody writes round r+1 before all checked r */
	}
	return NULL;
}

/* Thread-local storage: a new thread sees the initial values, not main's,
 * and threads alive at once have their own copies at distinct addresses. */
static __thread long tls = 42;
static __thread char tlsbuf[256] = "init";
static __thread long tlszero;

static void *tls_worker(void *arg)
{
	long id = (long)arg, ok = tls == 42 && tlsbuf[0] == 'i' && tlszero == 0;
	tls = id * 10;
	tlsbuf[0] = 'a' + id;
	tlszero = id;
	pthread_barrier_wait(&bar); /* all threads hold their own values now */
	ok = ok && tls == id * 10 && tlsbuf[0] == 'a' + id && tlszero == id;
	return (void *)(ok ? (intptr_t)&tls : 0);
}

/* Short-lived threads: each returns twice its argument, half through
 * pthread_exit, after checking its TLS is fresh. */
static void *short_worker(void *arg)
{
	long v = (long)arg;
	if (tls != 42)
		return (void *)-1L;
	tls = v;
	if (v % 2)
		pthread_exit((void *)(v * 2));
	return (void *)(v * 2);
}

int main(int argc, char **argv)
{
	pthread_t t[MAXT];
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (nthreads < 1 || nthreads > MAXT) {
		fprintf(stderr, "usage: pthreads [threads 1..%d]\n", MAXT);
		return 2;
	}

	for (long i = 0; i < nthreads; i++)
		must(pthread_create(&t[i], NULL, adder, NULL));
	for (int i = 0; i < ITER; i++) { /* main competes for the lock too */
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("mutex counter %s\n", counter == (long)(nthreads + 1) * ITER ? "ok" : "WRONG");

	for (long i = 0; i < nthreads; i++)
		must(pthread_create(&t[i], NULL, consumer, NULL));
	for (long v = 1; v <= ITEMS; v++)
		put(v);
	for (int i = 0; i < nthreads; i++)
		put(0);
	long total = 0;
	for (int i = 0; i < nthreads; i++) {
		void *r;
		pthread_join(t[i], &r);
		total += (long)r;
	}
	printf("condvar sum %ld\n", total);

	pthread_barrier_init(&bar, NULL, nthreads);
	for (long i = 0; i < nthreads; i++)
		must(pthread_create(&t[i], NULL, barrier_worker, (void *)i));
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	printf("barrier rounds %d serial %d bad %d\n", ROUNDS, serials, bad);

	tls = 7;
	tlsbuf[0] = 'm';
	void *addr[MAXT];
	int tlsok = 1;
	pthread_barrier_init(&bar, NULL, nthreads);
	for (long i = 0; i < nthreads; i++)
		must(pthread_create(&t[i], NULL, tls_worker, (void *)(i + 1)));
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], &addr[i]);
		tlsok = tlsok && addr[i] != NULL && addr[i] != (void *)&tls;
		for (int j = 0; j < i; j++)
			tlsok = tlsok && addr[i] != addr[j];
	}
	pthread_barrier_destroy(&bar);
	printf("tls %s, main keeps %ld %c\n", tlsok ? "ok" : "WRONG", tls, tlsbuf[0]);

	long sum = 0;
	for (long i = 0; i < 200; i++) {
		pthread_t s;
		void *r;
		if (pthread_create(&s, NULL, short_worker, (void *)i) != 0 || pthread_join(s, &r) != 0) {
			printf("short thread %ld failed\n", i);
			return 1;
		}
		sum += (long)r;
	}
	printf("short threads 200 sum %ld\n", sum);
	return 0;
}
