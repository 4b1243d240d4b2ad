// cma: process_vm_readv and process_vm_writev between a parent and its
// forked child (cross-memory attach, MPI's single-copy path): several
// iovecs on both sides, a transfer spanning pages, a partial transfer
// (a remote iovec past the mapping), and Linux's errors.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (3 * 4096 + 100)

static char *buf;

static void report(const char *what, ssize_t n) {
	printf("%s: %zd%s%s\n", what, n, n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	buf = malloc(SIZE);
	for (int i = 0; i < SIZE; i++)
		buf[i] = 'a' + i % 26;
	char *guard = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(guard + 4096, 4096); // a page, then a hole
	memset(guard, 'g', 4096);
	int go[2], done[2];
	pipe(go), pipe(done);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		char a[5000], b[3000], c[8000];
		struct iovec local[] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
		struct iovec remote[] = {{buf, 4000}, {buf + 4000, SIZE - 4000}};
		read(go[0], &(char){0}, 1);
		ssize_t n = process_vm_readv(parent, local, 3, remote, 2, 0);
		report("readv", n);
		int ok = 1;
		for (ssize_t i = 0; i < n; i++) {
			char got = i < 5000 ? a[i] : i < 8000 ? b[i - 5000] : c[i - 8000];
			ok &= got == 'a' + i % 26;
		}
		printf("readv bytes match: %d\n", ok);
		struct iovec from[] = {{"written ", 8}, {"by the child", 12}};
		struct iovec to[] = {{buf + 4090, 20}};
		report("writev", process_vm_writev(parent, from, 2, to, 1, 0));
		// Partial: the second remote iovec runs past the guard page.
		struct iovec part[] = {{guard, 100}, {guard + 4000, 200}};
		report("partial readv", process_vm_readv(parent, local, 1, part, 2, 0));
		struct iovec hole[] = {{guard + 4096, 10}};
		report("readv of a hole", process_vm_readv(parent, local, 1, hole, 1, 0));
		report("flags", process_vm_readv(parent, local, 1, remote, 1, 1));
		report("no such pid", process_vm_readv(999999, local, 1, remote, 1, 0));
		struct iovec badlocal[] = {{(void *)8, 10}};
		report("bad local iovec", process_vm_readv(parent, badlocal, 1, remote, 1, 0));
		report("zero iovecs", process_vm_readv(parent, local, 0, remote, 0, 0));
		write(done[1], "x", 1);
		_exit(0);
	}
	write(go[1], "x", 1);
	read(done[0], &(char){0}, 1);
	printf("parent sees: %.20s\n", buf + 4090);
	waitpid(pid, NULL, 0);
	return 0;
}
