/* Prints "tick N" (N from 1 to COUNT, default 100) every MS milliseconds (default 20), then "done", each line written at once: a long-running program for tests that stop and continue it from outside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 100;
	int ms = argc > 2 ? atoi(argv[2]) : 20;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	char line[32];
	for (int i = 1; i <= count; i++) {
		int n = snprintf(line, sizeof line, "tick %d\n", i);
		write(1, line, n);
		nanosleep(&ts, NULL);
	}
	write(1, "done\n", strlen("done\n"));
	return 0;
}
