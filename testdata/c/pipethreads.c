/* Exercises threads blocked in offloaded calls: readers wait in read() on pipes while the main thread sleeps, computes and writes; all must make progress on one LWK CPU. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 4
static int fds[N][2];

static void *reader(void *arg)
{
	long i = (long)arg;
	char buf[32] = {0};
	ssize_t n = read(fds[i][0], buf, sizeof buf - 1);
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	return (void *)(n > 0 && buf[0] == 'a' + i ? 1L : 0L);
}

int main(void)
{
	pthread_t t[N];
	for (long i = 0; i < N; i++) {
		pipe(fds[i]);
		pthread_create(&t[i], NULL, reader, (void *)i);
	}
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	volatile double x = 0;
	for (int i = 0; i < 1000000; i++)
		x += i * 0.5;
	for (long i = N - 1; i >= 0; i--) {
		char c = 'a' + i;
		write(fds[i][1], &c, 1);
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok += (long)r;
	}
	printf("readers ok %d of %d\n", ok, N);
	return 0;
}
