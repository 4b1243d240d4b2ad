// cflags: -g -fno-optimize-sibling-calls -pthread
/* The program eclair's tests debug with gdb: threads blocked in a local
 * call (sleeper: nanosleep), an offloaded call (reader: read on a pipe
 * nobody writes), a futex (waiter: pthread_cond_wait) and one in a busy
 * loop (spinner), with main reading stdin (offloaded too) until EOF. The
 * sleeper blocks SIGUSR1, and main sends it one: it stays pending, the
 * signal a debugger finds the sleeper stopped by; and it leaves known
 * values in ymm8 (xmm8 without AVX) as it blocks, for the debugger to find
 * in its saved XSAVE area. Each
 * blocking function is noinline (and no sibling calls, by the cflags) so
 * that it has a frame of its own in a backtrace. Before it prints "ready
 * PID" it writes a known string into a global buffer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Not static, so that gdb's x/s &debuggee_buf names it as the source
 * does; filled at run time, so that it lives in a written page. */
char debuggee_buf[64];
volatile unsigned long debuggee_spins;

/* What the sleeper leaves in ymm8. */
static const double fp_marks[4] = {42.0, 43.0, 44.0, 45.0};

static int pipefd[2];
static pthread_barrier_t started;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	pthread_barrier_wait(&started);
	for (;;)
		pthread_cond_wait(&never, &mu);
	return NULL;
}

__attribute__((noinline)) static void *reader(void *arg)
{
	char ch;
	(void)arg;
	pthread_barrier_wait(&started);
	while (read(pipefd[0], &ch, 1) == 1)
		;
	return NULL;
}

__attribute__((noinline)) static void *sleeper(void *arg)
{
	struct timespec ts = {3600, 0};
	sigset_t usr1;
	(void)arg;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	pthread_barrier_wait(&started);
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vmovupd %0, %%ymm8" : : "m"(fp_marks) : "xmm8");
	else
		__asm__ volatile("movupd %0, %%xmm8" : : "m"(fp_marks) : "xmm8");
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

__attribute__((noinline)) static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		debuggee_spins++;
	return NULL;
}

static pthread_t start(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, arg);
	if (err != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		exit(1);
	}
	return t;
}

int main(void)
{
	char buf[256];
	strcpy(debuggee_buf, "eclair reads this string");
	if (pipe(pipefd) != 0) {
		perror("pipe");
		return 1;
	}
	pthread_barrier_init(&started, NULL, 4);
	start(waiter, NULL);
	start(reader, NULL);
	pthread_t sleeping = start(sleeper, NULL);
	pthread_barrier_wait(&started);
	/* Give the threads the time to get to their calls. */
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	pthread_kill(sleeping, SIGUSR1);
	start(spinner, NULL);
	while (debuggee_spins == 0)
		sched_yield();
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}
