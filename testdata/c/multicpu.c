// multicpu: a process whose threads run on several CPUs. Each worker pins
// itself to one CPU of the affinity mask (migration) and reports where it
// runs; workers on different CPUs hand a token around through a mutex and
// condition variable (futexes across CPUs), map memory the others then
// read, and the last one ends the process with exit() while the others
// block. With "placement" it only reports how many distinct CPUs unpinned
// threads got.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int cpus[CPU_SETSIZE], ncpu;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 2000;
static char *shared[CPU_SETSIZE];
static pthread_barrier_t bar;
static int on_cpu[CPU_SETSIZE], reads_back[CPU_SETSIZE];

static void *worker(void *arg) {
	long i = (long)arg;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpus[i], &one);
	if (sched_setaffinity(0, sizeof one, &one) != 0)
		perror("sched_setaffinity");
	cpu_set_t got;
	sched_getaffinity(0, sizeof got, &got);
	on_cpu[i] = sched_getcpu() == cpus[i];
	reads_back[i] = CPU_EQUAL(&got, &one);
	// Memory mapped on one CPU is the others'.
	shared[i] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(shared[i], 64, "page of worker %ld", i);
	pthread_barrier_wait(&bar);
	char want[64];
	snprintf(want, sizeof want, "page of worker %ld", (i + 1) % ncpu);
	if (strcmp(shared[(i + 1) % ncpu], want) != 0)
		printf("worker %ld reads %.20s\n", i, shared[(i + 1) % ncpu]);
	pthread_barrier_wait(&bar);
	// The token goes round the CPUs.
	for (int r = 0; r < rounds; r++) {
		pthread_mutex_lock(&mu);
		while (turn % ncpu != i)
			pthread_cond_wait(&cv, &mu);
		turn++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	if (sched_getcpu() != cpus[i])
		printf("worker %ld left its CPU\n", i);
	return NULL;
}

static void *spin(void *arg) {
	int *cpu = arg;
	*cpu = sched_getcpu();
	pthread_barrier_wait(&bar);
	return NULL;
}

static volatile int spinning;

// spin_forever runs on the last CPU without a system call.
static void *spin_forever(void *arg) {
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpus[ncpu - 1], &one);
	sched_setaffinity(0, sizeof one, &one);
	for (spinning = 1;;)
		;
	return arg;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "execd") == 0) {
		puts("exec with a thread spinning on another CPU: ok");
		exit(3);
	}
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpu++] = c;
	if (argc > 1 && strcmp(argv[1], "placement") == 0) {
		pthread_t th[CPU_SETSIZE];
		int where[CPU_SETSIZE];
		pthread_barrier_init(&bar, NULL, ncpu);
		for (long i = 1; i < ncpu; i++)
			pthread_create(&th[i], NULL, spin, &where[i]);
		spin(&where[0]);
		for (long i = 1; i < ncpu; i++)
			pthread_join(th[i], NULL);
		int distinct = 0;
		for (int i = 0; i < ncpu; i++) {
			int seen = 0;
			for (int j = 0; j < i; j++)
				seen |= where[j] == where[i];
			distinct += !seen;
		}
		printf("%d threads on %d CPUs\n", ncpu, distinct);
		return 0;
	}
	printf("CPUs: %d\n", ncpu);
	fflush(stdout);
	// One thread per CPU, the main thread one of them: the LWK refuses
	// more threads than CPUs without mcreboot -O.
	pthread_t th[CPU_SETSIZE];
	pthread_barrier_init(&bar, NULL, ncpu);
	for (long i = 1; i < ncpu; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
			puts("pthread_create failed");
			return 1;
		}
	worker(0);
	for (long i = 1; i < ncpu; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < ncpu; i++)
		printf("worker %d runs on its CPU: %s, affinity reads back: %s\n", i, on_cpu[i] ? "yes" : "no",
		       reads_back[i] ? "yes" : "no");
	printf("token passed %d times\n", turn);
	// Migration of the main thread through every CPU and back.
	for (int i = ncpu - 1; i >= 0; i--) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpus[i], &one);
		sched_setaffinity(0, sizeof one, &one);
		if (sched_getcpu() != cpus[i])
			printf("main did not move to CPU index %d\n", i);
	}
	sched_setaffinity(0, sizeof set, &set);
	puts("main visited every CPU");
	fflush(stdout);
	// exec while another thread spins on another CPU: that thread goes.
	pthread_t spinner;
	pthread_create(&spinner, NULL, spin_forever, NULL);
	while (!spinning)
		sched_yield();
	char *args[] = {argv[0], "execd", NULL};
	execv(argv[0], args);
	perror("execv");
	return 1;
}
