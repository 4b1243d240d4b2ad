/* Exercises scheduling calls: affinity within the CPUs the kernel reports, getcpu, policies, sched_yield. Prints only checks, so native and LWK runs agree. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	int ok = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1;
	printf("getaffinity %s\n", ok ? "ok" : "bad");
	int first = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set)) {
			first = i;
			break;
		}
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	printf("setaffinity %s\n", sched_setaffinity(0, sizeof one, &one) == 0 ? "ok" : "bad");
	unsigned cpu = 99, node = 99;
	printf("getcpu %s\n", getcpu(&cpu, &node) == 0 && CPU_ISSET(cpu, &set) && node < 64 ? "ok" : "bad");
	struct sched_param sp = {0};
	printf("policy %d param %d\n", sched_getscheduler(0), sched_getparam(0, &sp) == 0 ? sp.sched_priority : -1);
	printf("setscheduler %d\n", sched_setscheduler(0, SCHED_OTHER, &sp));
	for (int i = 0; i < 100; i++)
		sched_yield();
	printf("yield ok\n");
	return 0;
}
