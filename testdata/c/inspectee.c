/* A long-lived multi-threaded target for mcps and mcinspect: argv[1] threads (default 3) block in read() on a pipe (offloaded calls), one sleeps in nanosleep (a local call), and main reads stdin. It prints "ready" once every thread has started, and exits at EOF on stdin. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static pthread_barrier_t started;

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

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	pthread_t t;
	char buf[256];
	/* Some heap, so that the process has more than its image mapped. */
	char *heap = malloc(1 << 20);
	memset(heap, 1, 1 << 20);
	if (pipe(pipefd) != 0) {
		perror("pipe");
		return 1;
	}
	pthread_barrier_init(&started, NULL, n + 2);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t, NULL, reader, NULL) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	if (pthread_create(&t, NULL, sleeper, NULL) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	pthread_barrier_wait(&started);
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	close(pipefd[1]);
	return heap[4096] - 1;
}
