/* Forks with argv[1] MiB of touched heap: on a partition too small for a second copy, fork must fail with ENOMEM and the parent go on; otherwise the child checks its copy and exits (never run natively: the sizes are chosen for a small LWK partition). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 0;
	if (mib <= 0) {
		fprintf(stderr, "usage: forkbig MiB\n");
		return 2;
	}
	size_t n = (size_t)mib << 20;
	char *p = malloc(n);
	if (p == NULL) {
		printf("malloc failed\n");
		return 1;
	}
	memset(p, 0x5a, n);
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", strerrorname_np(errno));
		return 0;
	}
	if (pid == 0)
		_exit(p[n - 1] == 0x5a && p[0] == 0x5a ? 0 : 1);
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("waitpid: %s\n", strerror(errno));
		return 1;
	}
	printf("fork: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
