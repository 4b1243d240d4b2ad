/* Exercises mmap/munmap/mprotect/mremap/madvise on anonymous memory and a private file mapping. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB (1UL << 20)
#define PAGE 4096UL

static void die(const char *what)
{
	fprintf(stderr, "mmap: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "mmap: %s\n", what);
	exit(1);
}

static unsigned char val(size_t off)
{
	return (unsigned char)(off / PAGE + 1);
}

int main(void)
{
	size_t len = 16 * MiB;
	unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		die("mmap anon");
	for (size_t off = 0; off < len; off += PAGE) {
		if (a[off] != 0)
			fail("fresh anonymous memory not zero");
		a[off] = val(off);
	}
	printf("mmap ok: anon 16 MiB\n");

	/* A hole in the middle must leave both remaining pieces usable. */
	if (munmap(a + 4 * MiB, 8 * MiB) < 0)
		die("munmap middle");
	for (size_t off = 0; off < 4 * MiB; off += PAGE)
		if (a[off] != val(off))
			fail("low part lost contents");
	for (size_t off = 12 * MiB; off < len; off += PAGE)
		if (a[off] != val(off))
			fail("high part lost contents");
	a[4 * MiB - 1] = 1;
	a[12 * MiB] = val(12 * MiB);
	printf("mmap ok: munmap middle\n");

	if (mprotect(a, 4 * MiB, PROT_READ) < 0)
		die("mprotect");
	for (size_t off = 0; off < 4 * MiB; off += PAGE)
		if (a[off] != val(off))
			fail("read-only part lost contents");
	printf("mmap ok: mprotect read-only\n");
	if (munmap(a, 4 * MiB) < 0 || munmap(a + 12 * MiB, 4 * MiB) < 0)
		die("munmap rest");

	unsigned char *r = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap for mremap");
	for (size_t off = 0; off < 4 * MiB; off += PAGE)
		r[off] = val(off);
	unsigned char *g = mremap(r, 4 * MiB, 32 * MiB, MREMAP_MAYMOVE);
	if (g == MAP_FAILED)
		die("mremap");
	for (size_t off = 0; off < 4 * MiB; off += PAGE)
		if (g[off] != val(off))
			fail("mremap lost contents");
	for (size_t off = 4 * MiB; off < 32 * MiB; off += PAGE) {
		if (g[off] != 0)
			fail("mremap growth not zero");
		g[off] = 1;
	}
	printf("mmap ok: mremap 4 -> 32 MiB\n");

	if (madvise(g, 32 * MiB, MADV_DONTNEED) < 0)
		die("madvise");
	for (size_t off = 0; off < 32 * MiB; off += PAGE)
		if (g[off] != 0)
			fail("MADV_DONTNEED memory not zero");
	printf("mmap ok: madvise dontneed\n");
	if (munmap(g, 32 * MiB) < 0)
		die("munmap mremapped");

	char tmpl[] = "/tmp/gomck-mmap-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		die("mkstemp");
	unlink(tmpl);
	/* Three pages plus a bit, so the last page is partly beyond EOF and must read as zero there. */
	size_t flen = 3 * PAGE + 100;
	static unsigned char content[3 * 4096 + 100];
	for (size_t i = 0; i < flen; i++)
		content[i] = (unsigned char)(i % 253);
	if (write(fd, content, flen) != (ssize_t)flen)
		die("write file");
	unsigned char *f = mmap(NULL, flen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		die("mmap file");
	close(fd);
	if (memcmp(f, content, flen) != 0)
		fail("file mapping content differs");
	for (size_t i = flen; i < 4 * PAGE; i++)
		if (f[i] != 0)
			fail("file mapping tail not zero");
	if (munmap(f, flen) < 0)
		die("munmap file");
	printf("mmap ok: private file mapping\n");
	return 0;
}
