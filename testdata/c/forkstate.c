/* Exercises what a forked child inherits, fork after fork (under mcexec the child proxies are reused, so each fork must bring its own state): working directory and umask changed between forks, close-on-exec flags, the process group, many descriptors, descriptors the parent closes right after the fork, unique pids of unreaped children, pipe ends closing when a child exits, the parent's next descriptor after all that, and an orphan that keeps writing after its parent exited. argv[1] is a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	printf("forkstate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The child reports its cwd's last component, umask and flags of fds a and b. */
static void report(int round, int a, int b)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			_exit(2);
		mode_t mask = umask(0);
		printf("round %d: cwd %s, umask %03o, fd %d cloexec %d, fd %d cloexec %d, same group %d\n", round,
		       strrchr(cwd, '/') + 1, (unsigned)mask, a, fcntl(a, F_GETFD) == FD_CLOEXEC, b,
		       fcntl(b, F_GETFD) == FD_CLOEXEC, getpgrp() == getpgid(getppid()));
		fflush(stdout);
		_exit(0);
	}
	if (reap(pid) != 0)
		printf("round %d: child failed\n", round);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: forkstate DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (chdir(argv[1]) < 0 || (mkdir("one", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("two", 0755) < 0 && errno != EEXIST))
		die("scratch directory");

	int a = open("/dev/null", O_RDONLY | O_CLOEXEC), b = open("/dev/null", O_RDONLY);
	if (a < 0 || b < 0)
		die("open");
	chdir("one");
	umask(027);
	report(1, a, b);
	chdir("../two");
	umask(002);
	fcntl(a, F_SETFD, 0);
	fcntl(b, F_SETFD, FD_CLOEXEC);
	if (setpgid(0, 0) < 0)
		die("setpgid");
	report(2, a, b);

	/* More descriptors than one message to a child proxy carries. */
	int many[20];
	for (int i = 0; i < 20; i++)
		if ((many[i] = dup(b)) < 0)
			die("dup");
	pid_t pid = fork();
	if (pid == 0) {
		int open = 0;
		for (int i = 0; i < 20; i++)
			open += fcntl(many[i], F_GETFD) >= 0;
		_exit(open);
	}
	printf("20 more descriptors, the child has %d\n", reap(pid));
	for (int i = 0; i < 20; i++)
		close(many[i]);

	/* A descriptor the parent closes right after the fork stays the child's. */
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		usleep(20000);
		_exit(write(p[1], "kept", 4) == 4 ? 0 : 1);
	}
	close(p[1]);
	char buf[16] = "";
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	/* The child's end closes when it exits: EOF, not a hang. */
	ssize_t end = read(p[0], buf + (n > 0 ? n : 0), 1);
	printf("closed after fork: %.*s, then %s, child exit %d\n", (int)(n > 0 ? n : 0), buf,
	       end == 0 ? "EOF" : "more", reap(pid));
	close(p[0]);

	/* Unreaped children have distinct pids. */
	pid_t kids[3];
	if (pipe(p) < 0)
		die("pipe");
	for (int i = 0; i < 3; i++) {
		if ((kids[i] = fork()) == 0) {
			char c;
			close(p[1]);
			_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
		}
	}
	close(p[0]);
	printf("three unreaped children, distinct pids: %d\n",
	       kids[0] != kids[1] && kids[1] != kids[2] && kids[0] != kids[2]);
	close(p[1]);
	int codes = 0;
	for (int i = 0; i < 3; i++)
		codes += reap(kids[i]);
	printf("they saw EOF: %d\n", codes == 0);

	/* Forks leave the descriptor table alone: the next is the lowest free. */
	int next = open("/dev/null", O_RDONLY);
	printf("next descriptor after the forks: %d\n", next);
	close(next);

	/* An orphan writes after its parent has exited. */
	if (pipe(p) < 0)
		die("pipe");
	if ((pid = fork()) == 0) {
		if (fork() == 0) {
			close(p[0]);
			usleep(50000);
			char cwd[PATH_MAX];
			dprintf(p[1], "orphan in %s", getcwd(cwd, sizeof cwd) ? strrchr(cwd, '/') + 1 : "?");
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	reap(pid);
	n = read(p[0], buf, sizeof buf - 1);
	printf("%.*s\n", (int)(n > 0 ? n : 0), buf);
	return 0;
}
