// sysvshm: System V shared memory as Linux gives it: a segment attached
// twice in one process and inherited by a forked child is one memory
// (a process-shared semaphore in it too); offloaded calls read and write
// it; SHM_RDONLY, shmdt and the errors of bad ids and addresses.
#define _GNU_SOURCE
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long page = sysconf(_SC_PAGESIZE);
	int id = shmget(IPC_PRIVATE, 3 * page, IPC_CREAT | 0600);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	char *a = shmat(id, NULL, 0);
	char *b = shmat(id, NULL, 0);
	if (a == (void *)-1 || b == (void *)-1) {
		perror("shmat");
		return 1;
	}
	strcpy(a + page, "via-a");
	printf("second attachment sees %s\n", b + page);
	int p[2];
	pipe(p);
	write(p[1], a + page, 5);
	read(p[0], b + 2 * page, 5);
	printf("read into the segment %.5s\n", a + 2 * page);

	sem_t *sem = (sem_t *)a;
	sem_init(sem, 1, 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(20000);
		strcpy(b + 100, "from-child");
		sem_post(sem);
		_exit(0);
	}
	sem_wait(sem);
	printf("child wrote %s\n", a + 100);
	waitpid(pid, NULL, 0);

	char *ro = shmat(id, NULL, SHM_RDONLY);
	printf("read-only attachment reads %s\n", ro + 100);
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	printf("segsz %zu\n", ds.shm_segsz);
	printf("shmdt %d\n", shmdt(ro));
	printf("shmdt again: %s\n", shmdt(ro) ? strerror(errno) : "ok");
	printf("shmdt inside: %s\n", shmdt(a + 1) ? strerror(errno) : "ok");
	printf("shmat bad id: %s\n", shmat(-5, NULL, 0) == (void *)-1 ? strerror(errno) : "ok");
	printf("shmat unaligned: %s\n", shmat(id, a + 1, 0) == (void *)-1 ? strerror(errno) : "ok");
	char *at = shmat(id, NULL, 0); // a free place: detached again at once
	shmdt(at);
	char *rnd = shmat(id, at + 5, SHM_RND);
	printf("shmat SHM_RND: %s\n", rnd == at ? "rounded" : strerror(errno));
	if (rnd != (void *)-1)
		shmdt(rnd);
	shmdt(a);
	printf("b still reads %s\n", b + page);
	shmdt(b);
	printf("rmid %d\n", shmctl(id, IPC_RMID, NULL));
	return 0;
}
