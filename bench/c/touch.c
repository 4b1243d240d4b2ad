/* Exercises first-touch page faults: writes one byte per 4 KiB page of a fresh anonymous mapping, prints ns/page. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 1024;
	if (mib <= 0) {
		fprintf(stderr, "usage: touch MiB\n");
		return 2;
	}
	size_t len = (size_t)mib << 20;
	/* No MAP_POPULATE: the cost of populating on first touch is what is measured. */
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("touch: mmap");
		return 1;
	}
	size_t pages = len / 4096;
	double t0 = now_ns();
	for (size_t i = 0; i < pages; i++)
		p[i * 4096] = 1;
	double t1 = now_ns();
	report("page", t0, t1, pages);
	munmap((void *)p, len);
	return 0;
}
