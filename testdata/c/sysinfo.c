/* Exercises the system views a program sees (CPUs, affinity, memory, clocks); a bench helper that records the environment, not compared. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct utsname u;
	if (uname(&u) == 0)
		printf("uname %s %s %s\n", u.sysname, u.release, u.machine);
	printf("cpus configured %ld online %ld\n", sysconf(_SC_NPROCESSORS_CONF),
	       sysconf(_SC_NPROCESSORS_ONLN));

	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		/* Print as a list of ranges, like /sys/devices/system/cpu/online. */
		printf("affinity");
		const char *sep = " ";
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (!CPU_ISSET(c, &set))
				continue;
			int e = c;
			while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
				e++;
			if (e > c)
				printf("%s%d-%d", sep, c, e);
			else
				printf("%s%d", sep, c);
			sep = ",";
			c = e;
		}
		printf(" (%d cpus)\n", CPU_COUNT(&set));
	}

	printf("pagesize %ld\n", sysconf(_SC_PAGESIZE));
	struct sysinfo si;
	if (sysinfo(&si) == 0)
		printf("memory total %llu MiB free %llu MiB\n",
		       (unsigned long long)si.totalram * si.mem_unit >> 20,
		       (unsigned long long)si.freeram * si.mem_unit >> 20);
	struct timespec res;
	if (clock_getres(CLOCK_MONOTONIC, &res) == 0)
		printf("clock monotonic resolution %ld ns\n", res.tv_nsec);
	return 0;
}
