/* Exercises the raw syscall round trip: N getpid calls via the syscall instruction, prints ns/op. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "bench.h"

/* glibc's getpid() is a real syscall today, but inline asm guarantees one trap per call. */
static inline long raw_getpid(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
	return ret;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n <= 0) {
		fprintf(stderr, "usage: getpid_loop N\n");
		return 2;
	}
	long pid = raw_getpid();
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (raw_getpid() != pid) {
			fprintf(stderr, "getpid_loop: pid changed\n");
			return 1;
		}
	double t1 = now_ns();
	report("op", t0, t1, n);
	return 0;
}
