/* Exercises a cheap offloaded syscall: N one-byte writes to /dev/null via the syscall instruction, prints ns/op. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "bench.h"

static inline long raw_write(long fd, const void *buf, long len)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_write), "D"(fd), "S"(buf), "d"(len)
			 : "rcx", "r11", "memory");
	return ret;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	if (n <= 0) {
		fprintf(stderr, "usage: devnull_loop N\n");
		return 2;
	}
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0) {
		perror("devnull_loop: open /dev/null");
		return 1;
	}
	char buf = 'x';
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (raw_write(fd, &buf, 1) != 1) {
			fprintf(stderr, "devnull_loop: write failed\n");
			return 1;
		}
	double t1 = now_ns();
	report("op", t0, t1, n);
	return 0;
}
