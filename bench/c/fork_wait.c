/* Exercises process creation: N rounds of fork, _exit(0) in the child and waitpid in the parent, prints ns/op. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	if (n <= 0) {
		fprintf(stderr, "usage: fork_wait N\n");
		return 2;
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "fork_wait: fork: %s\n", strerror(errno));
			return 1;
		}
		/* _exit: the child must not flush stdio or run atexit handlers. */
		if (pid == 0)
			_exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid) {
			fprintf(stderr, "fork_wait: waitpid: %s\n", strerror(errno));
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork_wait: child ended with status %#x\n", st);
			return 1;
		}
	}
	double t1 = now_ns();
	report("op", t0, t1, n);
	return 0;
}
