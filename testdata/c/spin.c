/* Spins on the CPU without system calls until killed: a CPU-bound app for mcps to watch. */
int main(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}
