/* Makes a known number of system calls for the counter tests: argv[1]
   getpid calls (served by the LWK) and argv[2] 1-byte writes to
   /dev/null (offloaded), all in main; then prints "ready" and blocks in a
   read of stdin until EOF. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long local = argc > 1 ? atol(argv[1]) : 1000;
	long offloaded = argc > 2 ? atol(argv[2]) : 100;
	int null = open("/dev/null", O_WRONLY);
	char c = 0;
	if (null < 0) {
		perror("/dev/null");
		return 1;
	}
	for (long i = 0; i < local; i++)
		syscall(SYS_getpid); /* glibc's getpid() may not enter the kernel */
	for (long i = 0; i < offloaded; i++)
		if (write(null, &c, 1) != 1) {
			perror("write");
			return 1;
		}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) == 1)
		;
	return 0;
}
