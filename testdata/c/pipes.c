/* Exercises pipes, dup2 and vectored I/O (writev to /dev/null, readv from a file). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define TOTAL (100 * 1024)
#define CHUNK 4096

static void die(const char *what)
{
	fprintf(stderr, "pipes: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void readfull(int fd, char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			die("read");
		p += r;
		n -= (size_t)r;
	}
}

int main(void)
{
	int p[2];
	if (pipe(p) < 0)
		die("pipe");

	/* Move the read end to a fixed high number to check that dup2 honours the target. */
	if (dup2(p[0], 10) != 10)
		die("dup2");
	close(p[0]);

	/*
	 * One chunk at a time stays below the pipe capacity, so a single
	 * thread can never block.
	 */
	static char out[TOTAL], in[TOTAL];
	for (int i = 0; i < TOTAL; i++)
		out[i] = (char)(i % 251);
	for (int off = 0; off < TOTAL; off += CHUNK) {
		int n = TOTAL - off < CHUNK ? TOTAL - off : CHUNK;
		if (write(p[1], out + off, n) != n)
			die("write");
		readfull(10, in + off, n);
	}
	if (memcmp(in, out, TOTAL) != 0) {
		fprintf(stderr, "pipes: data mismatch\n");
		return 1;
	}
	close(p[1]);
	char c;
	if (read(10, &c, 1) != 0) {
		fprintf(stderr, "pipes: no EOF after the writer closed\n");
		return 1;
	}
	close(10);
	printf("pipe %d bytes\n", TOTAL);

	char a[] = "first ", b[] = "second ", d[] = "third\n";
	struct iovec wv[3] = {
		{ a, strlen(a) }, { b, strlen(b) }, { d, strlen(d) },
	};
	size_t want = strlen(a) + strlen(b) + strlen(d);
	int null = open("/dev/null", O_WRONLY);
	if (null < 0)
		die("open /dev/null");
	if (writev(null, wv, 3) != (ssize_t)want)
		die("writev /dev/null");
	close(null);

	char tmpl[] = "/tmp/gomck-pipes-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		die("mkstemp");
	unlink(tmpl);
	if (writev(fd, wv, 3) != (ssize_t)want)
		die("writev file");
	if (lseek(fd, 0, SEEK_SET) != 0)
		die("lseek");
	/* Different split than the writer, so readv must fill iovecs across boundaries. */
	char r1[4], r2[9], r3[64];
	struct iovec rv[3] = { { r1, sizeof r1 }, { r2, sizeof r2 }, { r3, sizeof r3 } };
	ssize_t got = readv(fd, rv, 3);
	if (got != (ssize_t)want)
		die("readv");
	char all[128];
	memcpy(all, r1, sizeof r1);
	memcpy(all + sizeof r1, r2, sizeof r2);
	memcpy(all + sizeof r1 + sizeof r2, r3, want - sizeof r1 - sizeof r2);
	all[want] = 0;
	close(fd);
	if (strcmp(all, "first second third\n") != 0) {
		fprintf(stderr, "pipes: readv got %s", all);
		return 1;
	}
	printf("readv %s", all);
	printf("pipes ok\n");
	return 0;
}
