/* Exercises reading stdin to EOF (pipe or file): prints the byte count and a checksum. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static unsigned char buf[65536];
	uint64_t n = 0;
	uint32_t a = 1, b = 0; /* Adler-32: simple and position-sensitive. */
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "stdin: read: %s\n", strerror(errno));
			return 1;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			a = (a + buf[i]) % 65521;
			b = (b + a) % 65521;
		}
		n += (uint64_t)r;
	}
	printf("bytes %llu adler32 %08x\n", (unsigned long long)n, (b << 16) | a);
	return 0;
}
