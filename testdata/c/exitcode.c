/* Exercises exit statuses: exit(argv[1]), death by SIGABRT ("abort") or SIGSEGV ("segv"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* volatile hides the null pointer from the compiler, which would otherwise emit a trap instruction. */
static volatile uintptr_t null_addr;

int main(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	if (strcmp(argv[1], "abort") == 0)
		abort();
	if (strcmp(argv[1], "segv") == 0) {
		*(volatile int *)null_addr = 1;
		return 1;
	}
	return atoi(argv[1]);
}
