/* rofork: read-only private memory across fork (the LWK shares such pages between parent and child): a child that makes read-only data or a read-only file mapping writable and writes it keeps the change to itself, a parent that does the same after the fork is not seen by its child, a read() into read-only memory fails with EFAULT, and a plain store into it kills the child with SIGSEGV. argv[1] is a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char rodata[8192] __attribute__((aligned(4096))) = "rodata as built";

static void die(const char *what)
{
	printf("rofork: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *page_of(const void *p)
{
	return (char *)((unsigned long)p & ~4095UL);
}

/* The child's status as a short word: exit code or signal name. */
static const char *reap(pid_t pid)
{
	static char buf[32];
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "signal %s", sigabbrev_np(WTERMSIG(st)));
	else
		snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rofork DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/rofork.dat", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	char text[4096] = "file as written";
	if (write(fd, text, sizeof text) != sizeof text)
		die("write");
	char *file = mmap(NULL, sizeof text, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		die("mmap");
	setvbuf(stdout, NULL, _IONBF, 0);

	/* A child writes its read-only data and file mapping after mprotect. */
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (mprotect(page_of(rodata), 4096, PROT_READ | PROT_WRITE) || mprotect(file, 4096, PROT_READ | PROT_WRITE))
			die("mprotect in child");
		strcpy((char *)rodata, "rodata of child");
		strcpy(file, "file of child");
		printf("child sees: %s, %s\n", rodata, file);
		_exit(0);
	}
	printf("child 1: %s\n", reap(pid));
	printf("parent sees: %s, %s\n", rodata, file);

	/* A read() into read-only memory fails; a store kills. */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		errno = 0;
		ssize_t n = pread(fd, file, 16, 0);
		printf("read into read-only mapping: %zd %s\n", n, strerrorname_np(errno));
		n = pread(fd, (char *)rodata, 16, 0);
		printf("read into read-only data: %zd %s\n", n, strerrorname_np(errno));
		*(volatile char *)file = 'x';
		_exit(0);
	}
	printf("child 2: %s\n", reap(pid));
	printf("parent sees: %s, %s\n", rodata, file);

	/* The parent writes after the fork; its child, waiting, reads. */
	int go[2];
	if (pipe(go))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			die("read pipe");
		printf("child 3 sees: %s, %s\n", rodata, file);
		_exit(0);
	}
	close(go[0]);
	if (mprotect(page_of(rodata), 4096, PROT_READ | PROT_WRITE) || mprotect(file, 4096, PROT_READ | PROT_WRITE))
		die("mprotect in parent");
	strcpy((char *)rodata, "rodata of parent");
	strcpy(file, "file of parent");
	if (write(go[1], "g", 1) != 1)
		die("write pipe");
	printf("child 3: %s\n", reap(pid));
	printf("parent sees: %s, %s\n", rodata, file);
	unlink(path);
	return 0;
}
