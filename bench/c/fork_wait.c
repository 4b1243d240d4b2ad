/* Exercises process creation: N rounds of fork, _exit(0) in the child and waitpid in the parent, after untimed warm-up rounds; prints ns/op. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* warmup forks go untimed first: under mcexec the first forks of a process
 * start the child proxies that later forks reuse (a Go program each, some
 * ms), which is start-up as much as the process's own. */
enum { warmup = 20 };

/* round_trip forks a child that exits at once and reaps it; 0 on success. */
static int round_trip(void)
{
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
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	if (n <= 0) {
		fprintf(stderr, "usage: fork_wait N\n");
		return 2;
	}
	for (int i = 0; i < warmup; i++)
		if (round_trip())
			return 1;
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (round_trip())
			return 1;
	double t1 = now_ns();
	report("op", t0, t1, n);
	return 0;
}
