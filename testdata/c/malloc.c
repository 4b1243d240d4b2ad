/* Exercises the heap: many small mallocs/frees/reallocs (brk) and large ones (mmap), calloc zeroing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSMALL 100000
#define NLARGE 4
#define LARGE (64UL << 20)
#define PAGE 4096

static uint64_t seed = 12345;

/* A fixed LCG instead of rand(), so the sequence is the same under every libc state. */
static uint32_t next(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(seed >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 1099511628211ULL;
}

static void fail(const char *what)
{
	printf("malloc: %s\n", what);
	exit(1);
}

int main(void)
{
	static unsigned char *p[NSMALL];
	static size_t sz[NSMALL];
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < NSMALL; i++) {
		sz[i] = 1 + next() % 512;
		p[i] = malloc(sz[i]);
		if (!p[i])
			fail("small malloc failed");
		memset(p[i], (unsigned char)i, sz[i]);
	}
	for (int i = 0; i < NSMALL; i += 2) {
		free(p[i]);
		p[i] = NULL;
	}
	for (int i = 1; i < NSMALL; i += 2) {
		size_t n = 1 + next() % 1024;
		unsigned char *q = realloc(p[i], n);
		if (!q)
			fail("realloc failed");
		size_t keep = n < sz[i] ? n : sz[i];
		for (size_t j = 0; j < keep; j++)
			if (q[j] != (unsigned char)i)
				fail("realloc lost contents");
		memset(q, (unsigned char)(i * 3), n);
		p[i] = q;
		sz[i] = n;
	}
	for (int i = 1; i < NSMALL; i += 2) {
		for (size_t j = 0; j < sz[i]; j++)
			h = mix(h, p[i][j]);
		free(p[i]);
	}
	printf("small checksum %016llx\n", (unsigned long long)h);

	/* Reused small chunks are dirty, so calloc has to clear them itself. */
	for (int i = 0; i < 1000; i++) {
		size_t n = 1 + next() % 2048;
		unsigned char *q = calloc(n, 1);
		if (!q)
			fail("small calloc failed");
		for (size_t j = 0; j < n; j++)
			if (q[j])
				fail("small calloc not zeroed");
		free(q);
	}
	printf("small calloc ok\n");

	unsigned char *big[NLARGE];
	for (int k = 0; k < NLARGE; k++) {
		big[k] = malloc(LARGE);
		if (!big[k])
			fail("large malloc failed");
		for (size_t off = 0; off < LARGE; off += PAGE)
			big[k][off] = (unsigned char)(off / PAGE * (k + 1));
	}
	h = 14695981039346656037ULL;
	for (int k = 0; k < NLARGE; k++) {
		for (size_t off = 0; off < LARGE; off += PAGE)
			h = mix(h, big[k][off]);
		free(big[k]);
	}
	printf("large checksum %016llx\n", (unsigned long long)h);

	unsigned char *z = calloc(LARGE / 8, 8);
	if (!z)
		fail("large calloc failed");
	for (size_t off = 0; off < LARGE; off++)
		if (z[off])
			fail("large calloc not zeroed");
	free(z);
	printf("large calloc ok\n");
	printf("malloc ok\n");
	return 0;
}
