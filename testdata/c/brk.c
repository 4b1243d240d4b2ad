/* Exercises brk/sbrk: grow the break in 1 MiB steps to 64 MiB, write/verify, shrink back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MiB (1L << 20)
#define STEPS 64

static void fail(const char *what)
{
	fprintf(stderr, "brk: %s\n", what);
	exit(1);
}

int main(void)
{
	/* Allocate stdio's buffer now, so that malloc does not move the break while we own it. */
	printf("brk start\n");
	fflush(stdout);

	char *base = sbrk(0);
	if (base == (char *)-1)
		fail("sbrk(0)");
	for (long i = 0; i < STEPS; i++) {
		char *old = sbrk(MiB);
		if (old == (char *)-1)
			fail("sbrk grow");
		if (old != base + i * MiB)
			fail("sbrk returned an unexpected old break");
		for (long off = 0; off < MiB; off += 4096)
			old[off] = (char)(i + off / 4096);
	}
	if (sbrk(0) != base + STEPS * MiB)
		fail("break not at 64 MiB");
	for (long i = 0; i < STEPS; i++)
		for (long off = 0; off < MiB; off += 4096)
			if (base[i * MiB + off] != (char)(i + off / 4096))
				fail("verify after growth");

	/* Shrink by half with brk, then check the lower half survived and the break moved. */
	if (brk(base + STEPS / 2 * MiB) != 0)
		fail("brk shrink");
	if (sbrk(0) != base + STEPS / 2 * MiB)
		fail("break not at 32 MiB");
	for (long i = 0; i < STEPS / 2; i++)
		for (long off = 0; off < MiB; off += 4096)
			if (base[i * MiB + off] != (char)(i + off / 4096))
				fail("verify after shrink");

	/* Growing again must hand out zeroed memory, not the old contents. */
	if (brk(base + STEPS * MiB) != 0)
		fail("brk regrow");
	for (long off = STEPS / 2 * MiB; off < STEPS * MiB; off += 4096)
		if (base[off] != 0)
			fail("regrown memory not zero");
	if (brk(base) != 0)
		fail("brk restore");
	if (sbrk(0) != base)
		fail("break not restored");
	printf("brk ok\n");
	return 0;
}
