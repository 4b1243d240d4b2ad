// cflags: -pthread
/* Makes known system calls in two threads for mcexec --profile: main
   makes argv[1] getpid calls (local) and argv[2] 1-byte writes to
   /dev/null (offloaded), a second thread argv[3] and argv[4]; then main
   writes "out" to stdout and "err" to stderr, forks argv[5] children one
   after the other, each making 7 getpid calls (argv[6] "write": and 1
   write), and exits with 3. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int null;

static void calls(long local, long offloaded)
{
	char c = 0;
	for (long i = 0; i < local; i++)
		syscall(SYS_getpid); /* glibc's getpid() may not enter the kernel */
	for (long i = 0; i < offloaded; i++)
		if (write(null, &c, 1) != 1)
			_exit(1);
}

static long counts[4];

static void *second(void *arg)
{
	(void)arg;
	calls(counts[2], counts[3]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (argc < 5)
		return 2;
	for (int i = 0; i < 4; i++)
		counts[i] = atol(argv[i + 1]);
	if ((null = open("/dev/null", O_WRONLY)) < 0)
		return 1;
	if (pthread_create(&t, NULL, second, NULL) != 0)
		return 1;
	calls(counts[0], counts[1]);
	pthread_join(t, NULL);
	write(1, "out\n", 4);
	write(2, "err\n", 4);
	for (int n = argc > 5 ? atoi(argv[5]) : 0; n > 0; n--) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 7; i++)
				syscall(SYS_getpid);
			if (argc > 6 && strcmp(argv[6], "write") == 0)
				calls(0, 1); /* offloaded: its proxy attaches first */
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	return 3;
}
