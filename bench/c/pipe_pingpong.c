/*
 * Two processes pass a byte back and forth over two pipes, N round trips
 * (argv[1], default 2000); prints ns/op per round trip. On one CPU each
 * trip is four pipe calls and two switches: the cost of handing the CPU
 * over when a process blocks in a call and of the wake-up reaching the
 * scheduler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	int ping[2], pong[2];
	if (pipe(ping) < 0 || pipe(pong) < 0) {
		perror("pipe");
		return 1;
	}
	char b = 0;
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		for (long i = 0; i < n; i++)
			if (read(ping[0], &b, 1) != 1 || write(pong[1], &b, 1) != 1)
				_exit(1);
		_exit(0);
	}
	/* one trip first: the child is running and waiting */
	if (write(ping[1], &b, 1) != 1 || read(pong[0], &b, 1) != 1)
		return 1;
	double t0 = now_ns();
	for (long i = 1; i < n; i++)
		if (write(ping[1], &b, 1) != 1 || read(pong[0], &b, 1) != 1)
			return 1;
	double t1 = now_ns();
	int st;
	waitpid(pid, &st, 0);
	report("op", t0, t1, n - 1);
	return !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}
