/* Opens the LWK's own events, the dynamic PMU "lwk", through
   perf_event_open as perf does: the type and the events' terms from
   /sys/bus/event_source/devices/lwk. Prints "key value" lines:
     pmuev sysfs     every file of the PMU's directory ("file NAME CONTENT",
                     newlines as \n) and the host PMU software's type;
     pmuev count N M N getpid (served by the LWK) and M writes to /dev/null
                     (offloaded) counted by a group, per-thread, inherit across
                     pthread_create and fork, on a child by its pid, CPU-wide;
                     and the errnos of bad configs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PMU "/sys/bus/event_source/devices/lwk"

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	return strerror(e);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	if (fd < 0 || (n = read(fd, buf, sizeof buf - 1)) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	buf[n] = 0;
	return buf;
}

static unsigned type;

/* config is an event's id and nr fields, as the PMU's format says. */
static uint64_t config_of(const char *name, int nr)
{
	char path[256];
	unsigned id;
	snprintf(path, sizeof path, PMU "/events/%s", name);
	if (sscanf(slurp(path), "event=%x", &id) != 1) {
		fprintf(stderr, "%s: no event term\n", path);
		exit(1);
	}
	return id | (uint64_t)nr << 8;
}

static long open_config(uint64_t config, pid_t pid, int cpu, int group, int disabled, int inherit)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = type;
	a.config = config;
	a.disabled = disabled;
	a.inherit = inherit;
	return syscall(SYS_perf_event_open, &a, pid, cpu, group, 0);
}

static long open_event(const char *name, int nr, pid_t pid, int group, int disabled, int inherit)
{
	long fd = open_config(config_of(name, nr), pid, -1, group, disabled, inherit);
	if (fd < 0) {
		fprintf(stderr, "perf_event_open %s: %s\n", name, strerror(errno));
		exit(1);
	}
	return fd;
}

static uint64_t value(long fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof v) != sizeof v) {
		perror("read");
		exit(1);
	}
	return v;
}

static void try_config(const char *what, uint64_t config, pid_t pid, int cpu)
{
	long fd = open_config(config, pid, cpu, -1, 0, 0);
	if (fd < 0) {
		printf("%s %s\n", what, errname(errno));
		return;
	}
	printf("%s ok\n", what);
	close(fd);
}

static void getpids(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid); /* glibc's getpid() may not enter the kernel */
}

static void *thread_getpids(void *n)
{
	getpids((long)n);
	return NULL;
}

static int sysfs(void)
{
	const char *dirs[] = {"", "/events", "/format"};
	for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char dir[256], path[512];
		snprintf(dir, sizeof dir, PMU "%s", dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *e;
		if (!d) {
			perror(dir);
			return 1;
		}
		while ((e = readdir(d))) {
			if (e->d_type != DT_REG)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			printf("file %s%s%s ", dirs[i][0] ? dirs[i] + 1 : "", dirs[i][0] ? "/" : "", e->d_name);
			for (char *c = slurp(path); *c; c++)
				fputs(*c == '\n' ? "\\n" : (char[]){*c, 0}, stdout);
			printf("\n");
		}
		closedir(d);
	}
	printf("software type %s", slurp("/sys/bus/event_source/devices/software/type"));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	type = atoi(slurp(PMU "/type"));
	if (!strcmp(argv[1], "sysfs"))
		return sysfs();
	long n = argc > 2 ? atol(argv[2]) : 1000, m = argc > 3 ? atol(argv[3]) : 100;
	int null = open("/dev/null", O_WRONLY);
	char c = 0;

	/* A group: the leader's ENABLE, itself a local call, starts it. */
	long local = open_event("syscalls_local", 0, 0, -1, 1, 0);
	long off = open_event("syscalls_offloaded", 0, 0, local, 0, 0);
	long gp = open_event("syscall_local_calls", SYS_getpid, 0, local, 0, 0);
	long wr = open_event("syscall_offloaded_calls", SYS_write, 0, local, 0, 0);
	long wait_ns = open_event("offload_wait_ns", 0, 0, local, 0, 0);
	ioctl(local, PERF_EVENT_IOC_ENABLE, 0);
	getpids(n);
	for (long i = 0; i < m; i++)
		if (write(null, &c, 1) != 1)
			return 1;
	ioctl(local, PERF_EVENT_IOC_DISABLE, 0);
	printf("group syscalls_local %lu\n", value(local));
	printf("group syscalls_offloaded %lu\n", value(off));
	printf("group getpid %lu\n", value(gp));
	printf("group write %lu\n", value(wr));
	printf("group offload_wait_ns>0 %d\n", value(wait_ns) > 0);

	/* inherit: a thread and a child process made after the open count. */
	long inh = open_event("syscall_local_calls", SYS_getpid, 0, -1, 0, 1);
	long own = open_event("syscall_local_calls", SYS_getpid, 0, -1, 0, 0);
	pthread_t th;
	pthread_create(&th, NULL, thread_getpids, (void *)(n / 2));
	pthread_join(th, NULL);
	pid_t child = fork();
	if (child == 0) {
		getpids(n / 4);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	getpids(n);
	printf("inherit getpid %lu\n", value(inh));
	printf("no-inherit getpid %lu\n", value(own));

	/* Another process by its pid: a child, counted once it is told to go. */
	int go[2];
	if (pipe(go) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		getpids(n / 2);
		_exit(0);
	}
	close(go[0]);
	long other = open_event("syscall_local_calls", SYS_getpid, child, -1, 0, 0);
	if (write(go[1], &c, 1) != 1)
		return 1;
	waitpid(child, NULL, 0);
	printf("child getpid %lu\n", value(other));
	try_config("exited child", config_of("syscalls_local", 0), child, -1);

	/* CPU-wide: this CPU's idle time while the thread sleeps, and its calls. */
	int cpu = sched_getcpu();
	long idle = open_config(config_of("idle_ns", 0), -1, cpu, -1, 0, 0);
	long cpu_local = open_config(config_of("syscalls_local", 0), -1, cpu, -1, 0, 0);
	if (idle < 0 || cpu_local < 0) {
		printf("cpu-wide %s\n", errname(errno));
	} else {
		usleep(20000);
		getpids(n);
		printf("cpu idle_ns>0 %d\n", value(idle) > 0);
		printf("cpu syscalls_local>=n %d\n", value(cpu_local) >= (uint64_t)n);
	}

	/* Bad configs and targets. */
	try_config("config 0", 0, 0, -1);
	try_config("config unknown id", 0x7f, 0, -1);
	try_config("config nr on a total", config_of("syscalls_local", 0) | 1 << 8, 0, -1);
	try_config("config nr too big", config_of("syscall_local_calls", 4095), 0, -1);
	try_config("config past the format", config_of("syscalls_local", 0) | 1ULL << 20, 0, -1);
	try_config("idle_ns per thread", config_of("idle_ns", 0), 0, -1);
	try_config("migrations cpu-wide", config_of("migrations", 0), -1, cpu);
	try_config("pid none", config_of("syscalls_local", 0), 999999, -1);
	return 0;
}
