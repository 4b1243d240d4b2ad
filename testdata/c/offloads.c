/* For the eBPF offload test: prints "ready", waits for a line on stdin,
   makes argv[1] 1-byte writes to /dev/null (offloaded), prints "done"
   (one more write) and blocks in a read of stdin until EOF. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100;
	int null = open("/dev/null", O_WRONLY);
	char c = 0;
	if (null < 0) {
		perror("/dev/null");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (read(0, &c, 1) != 1)
		return 1;
	for (long i = 0; i < n; i++)
		if (write(null, &c, 1) != 1) {
			perror("write");
			return 1;
		}
	printf("done\n");
	fflush(stdout);
	while (read(0, &c, 1) == 1)
		;
	return 0;
}
