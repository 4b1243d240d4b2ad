/* A long-lived multi-threaded target for mcps and mcinspect: argv[1] threads (default 3) block in read() on a pipe (offloaded calls), one sleeps in nanosleep (a local call), argv[3] more (default 0) wait on a condition variable (futex, local), and main reads stdin. Main first touches a heap of argv[2] MiB (default 1). It prints "ready" once every thread has started, and exits at EOF on stdin. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static pthread_barrier_t started;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *reader(void *arg)
{
	char c;
	(void)arg;
	pthread_barrier_wait(&started);
	while (read(pipefd[0], &c, 1) == 1)
		;
	return NULL;
}

static void *sleeper(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	(void)arg;
	pthread_barrier_wait(&started);
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&started);
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&never, &mu);
	return NULL;
}

static void start(pthread_attr_t *attr, void *(*fn)(void *))
{
	pthread_t t;
	int err = pthread_create(&t, attr, fn, NULL);
	if (err != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	size_t heapsz = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1) << 20;
	int waiters = argc > 3 ? atoi(argv[3]) : 0;
	pthread_attr_t attr;
	char buf[256];
	/* Some heap, so that the process has more than its image mapped; a
	 * big one is allocated with mmap by malloc. */
	char *heap = malloc(heapsz);
	if (heap == NULL) {
		fprintf(stderr, "malloc %zu failed\n", heapsz);
		return 1;
	}
	memset(heap, 1, heapsz);
	if (pipe(pipefd) != 0) {
		perror("pipe");
		return 1;
	}
	/* Small stacks: a thousand threads of 8 MiB each would not fit a
	 * small partition. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&started, NULL, n + waiters + 2);
	for (int i = 0; i < n; i++)
		start(&attr, reader);
	start(&attr, sleeper);
	for (int i = 0; i < waiters; i++)
		start(&attr, waiter);
	pthread_barrier_wait(&started);
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	close(pipefd[1]);
	return heap[4096] - 1;
}
