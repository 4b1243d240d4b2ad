/* Reads /proc/self/exe through readlink and readlinkat: the LWK answers with the program's own path, not its proxy's. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argc;
	char a[4096], b[4096];
	ssize_t n = readlink("/proc/self/exe", a, sizeof a - 1);
	ssize_t m = readlinkat(AT_FDCWD, "/proc/self/exe", b, sizeof b - 1);
	if (n < 0 || m < 0)
		return 1;
	a[n] = b[m] = 0;
	char c[4096];
	ssize_t k = readlink(argv[0], c, sizeof c); /* not a link: EINVAL */
	printf("exe %s\nsame %d\nplain file %zd\n", a, n == m, k);
	return 0;
}
