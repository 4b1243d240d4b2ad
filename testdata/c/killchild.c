/* Forks a child that waits forever, prints the child's pid, and reports how
   the child ended: the test kills the child from outside (under mcexec,
   the pid is the child's proxy, so this kills an mcexec). */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		for (;;)
			pause();
	}
	printf("%d\n", pid);
	fflush(stdout);
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (WIFSIGNALED(st))
		printf("child killed by signal %d\n", WTERMSIG(st));
	else
		printf("child exited with %d\n", WEXITSTATUS(st));
	return 0;
}
