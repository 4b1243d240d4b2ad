/* Exercises the smallest possible program: one write to stdout and exit 0. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 0;
}
