/* Exhausts memory: allocates and touches 1 MiB blocks until malloc fails (never run natively: it would take the machine's memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	long n = 0;
	for (;;) {
		char *p = malloc(1 << 20);
		if (p == NULL)
			break;
		memset(p, 1, 1 << 20);
		n++;
	}
	printf("exhausted after %s\n", n > 0 ? "some blocks" : "no block");
	return 0;
}
