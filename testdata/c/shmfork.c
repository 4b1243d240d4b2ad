// shmfork: MAP_SHARED anonymous memory shared with forked children:
// stores cross both ways, process-shared mutexes and semaphores (futexes
// on shared pages) work between processes, and a child's unmap or exit
// leaves the parent's mapping intact.
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t lock;
	long counter;
	sem_t ping, pong;
	char note[64];
};

static void reap(int n) {
	for (int i = 0; i < n; i++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			printf("child %d failed (status %#x)\n", i, st);
	}
}

int main(void) {
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->lock, &ma);
	sem_init(&s->ping, 1, 0);
	sem_init(&s->pong, 1, 0);

	// A child's store is the parent's.
	if (fork() == 0) {
		strcpy(s->note, "written by the child");
		_exit(0);
	}
	reap(1);
	printf("note: %s\n", s->note);

	// Three children and the parent count under one process-shared mutex.
	enum { kids = 3, rounds = 2000 };
	for (int k = 0; k < kids; k++)
		if (fork() == 0) {
			for (int i = 0; i < rounds; i++) {
				pthread_mutex_lock(&s->lock);
				s->counter++;
				pthread_mutex_unlock(&s->lock);
				if (i % 100 == 0)
					sched_yield();
			}
			_exit(0);
		}
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&s->lock);
		s->counter++;
		pthread_mutex_unlock(&s->lock);
	}
	reap(kids);
	printf("counter: %ld (want %d)\n", s->counter, (kids + 1) * rounds);

	// Semaphore ping-pong between processes: both block in the LWK.
	if (fork() == 0) {
		for (int i = 0; i < 100; i++) {
			sem_wait(&s->ping);
			sem_post(&s->pong);
		}
		munmap(s, sizeof *s); // the child's unmap is its own
		_exit(0);
	}
	for (int i = 0; i < 100; i++) {
		sem_post(&s->ping);
		sem_wait(&s->pong);
	}
	reap(1);
	printf("ping-pong: 100 rounds\n");
	s->counter = 42;
	printf("after the child's unmap the parent still writes: %ld\n", s->counter);
	return munmap(s, sizeof *s) != 0;
}
