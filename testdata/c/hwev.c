// cflags: -pthread
/* Linux's events an LWK app opens: hardware, cache and raw ones, and
   those of the host's dynamic PMUs (msr), which the LWK counts on the stub
   thread that runs the app. Prints "key value" lines:
     hwev errnos   what perf_event_open answers for hardware, cache and raw
                   events in every way of opening them (ENOENT on a host
                   without a PMU), and for bad msr configs;
     hwev count    msr/tsc/ (TSC ticks while the thread runs) over busy
                   loops, beside the task clock: alone, in groups either
                   way round, disabled, enabled, reset, with its times, on
                   another thread by its tid, and inherited by a thread
                   and a child process. The busy loops make no system call
                   (the vDSO's clock), so the stub runs them whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned msr_type;

static long perf_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long flags)
{
	return syscall(SYS_perf_event_open, a, pid, cpu, group, flags);
}

static void attr_init(struct perf_event_attr *a, uint32_t type, uint64_t config)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = type;
	a->config = config;
}

static void try_open(const char *what, struct perf_event_attr *a, pid_t pid, int cpu, int group)
{
	long fd = perf_open(a, pid, cpu, group, 0);
	printf("%s %s\n", what, fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
}

static long must_open(const char *what, struct perf_event_attr *a, pid_t pid, int group)
{
	long fd = perf_open(a, pid, -1, group, 0);
	if (fd < 0) {
		fprintf(stderr, "perf_event_open %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return fd;
}

static long tsc(pid_t pid, int group, int disabled, int inherit)
{
	struct perf_event_attr a;
	attr_init(&a, msr_type, 0); /* msr/tsc/: event=0x00 */
	a.disabled = disabled;
	a.inherit = inherit;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	return must_open("msr/tsc/", &a, pid, group);
}

static long task_clock(int group, uint64_t read_format)
{
	struct perf_event_attr a;
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.read_format = read_format;
	return must_open("task-clock", &a, 0, group);
}

struct reading {
	uint64_t value, enabled, running;
};

/* get reads an event; one without times fills value only. */
static struct reading get(long fd)
{
	struct reading r = {0};
	if (read(fd, &r, sizeof r) < (ssize_t)sizeof r.value) {
		perror("read");
		exit(1);
	}
	return r;
}

static uint64_t value(long fd) { return get(fd).value; }

static void busy(int ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < ms * 1000000L);
}

static void errnos(void)
{
	static const struct {
		const char *name;
		uint32_t type;
		uint64_t config;
	} events[] = {
		{"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
		{"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
		{"l1d-read-miss", PERF_TYPE_HW_CACHE,
		 PERF_COUNT_HW_CACHE_L1D | PERF_COUNT_HW_CACHE_OP_READ << 8 | PERF_COUNT_HW_CACHE_RESULT_MISS << 16},
		{"raw", PERF_TYPE_RAW, 0x3c},
	};
	struct perf_event_attr a;
	char what[128];
	for (unsigned i = 0; i < sizeof events / sizeof *events; i++) {
		const char *n = events[i].name;
#define TRY(how, pid, cpu, group)                                   \
	do {                                                        \
		snprintf(what, sizeof what, "%s %s", n, how);       \
		try_open(what, &a, pid, cpu, group);                \
		attr_init(&a, events[i].type, events[i].config);    \
	} while (0)
		attr_init(&a, events[i].type, events[i].config);
		TRY("self", 0, -1, -1);
		a.exclude_kernel = a.exclude_hv = 1;
		TRY("user-only", 0, -1, -1);
		a.inherit = a.disabled = 1;
		TRY("inherit disabled", 0, -1, -1);
		a.sample_period = 100000;
		TRY("sampling", 0, -1, -1);
		TRY("pid self", getpid(), -1, -1);
		TRY("cpu-wide", -1, 0, -1);
		TRY("bound to cpu", 0, 0, -1);
		long leader = task_clock(-1, 0);
		TRY("in a software group", 0, -1, leader);
		close(leader);
		TRY("pid none", 999999, -1, -1);
		a.config = ~0ULL;
		TRY("config bad", 0, -1, -1);
#undef TRY
	}
	attr_init(&a, msr_type, 99);
	try_open("msr config unknown", &a, 0, -1, -1);
	attr_init(&a, msr_type, 0);
	a.sample_period = 1000;
	try_open("msr sampling", &a, 0, -1, -1);
}

static sem_t go, done;
static volatile pid_t worker_tid;

/* worker busies itself for 30 ms when told to. */
static void *worker(void *arg)
{
	(void)arg;
	worker_tid = gettid();
	sem_post(&done);
	sem_wait(&go);
	busy(30);
	sem_post(&done);
	return NULL;
}

static void count(void)
{
	/* Alone beside the task clock: TSC ticks a task-clock ms. */
	long t = tsc(0, -1, 0, 0), clk = task_clock(-1, 0);
	busy(60);
	struct reading r = get(t);
	uint64_t ns = value(clk);
	printf("alone tsc-per-us %lu\n", r.value * 1000 / ns);
	printf("alone enabled-per-clock %lu\n", r.enabled * 100 / ns);
	printf("alone running=enabled %d\n", r.running == r.enabled);
	close(clk);

	/* Disabled, enabled, disabled again, reset. */
	long d = tsc(0, -1, 1, 0);
	busy(20);
	printf("disabled tsc %lu\n", value(d));
	ioctl(d, PERF_EVENT_IOC_ENABLE, 0);
	busy(20);
	ioctl(d, PERF_EVENT_IOC_DISABLE, 0);
	uint64_t once = value(d);
	busy(20);
	printf("enabled 20ms, tsc, percent of alone's 60ms %lu\n", once * 100 / r.value);
	printf("stays after disable %d\n", value(d) == once);
	ioctl(d, PERF_EVENT_IOC_RESET, 0);
	printf("reset tsc %lu\n", value(d));
	close(d);
	close(t);

	/* Groups: a software leader with the TSC, and the other way round. */
	for (int tsc_leads = 0; tsc_leads <= 1; tsc_leads++) {
		uint64_t f = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		long lead, member;
		if (tsc_leads) {
			struct perf_event_attr a;
			attr_init(&a, msr_type, 0);
			a.read_format = f;
			a.disabled = 1;
			lead = must_open("msr/tsc/ leader", &a, 0, -1);
			member = task_clock(lead, 0);
		} else {
			struct perf_event_attr a;
			attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
			a.read_format = f;
			a.disabled = 1;
			lead = must_open("task-clock leader", &a, 0, -1);
			member = tsc(0, lead, 0, 0);
		}
		ioctl(lead, PERF_EVENT_IOC_ENABLE, 0);
		busy(40);
		ioctl(lead, PERF_EVENT_IOC_DISABLE, 0);
		uint64_t g[5];
		if (read(lead, g, sizeof g) != sizeof g) {
			perror("read group");
			exit(1);
		}
		uint64_t tscv = tsc_leads ? g[3] : g[4], clock = tsc_leads ? g[4] : g[3];
		const char *name = tsc_leads ? "tsc-led" : "clock-led";
		printf("%s members %lu\n", name, g[0]);
		printf("%s tsc-per-us %lu\n", name, tscv * 1000 / clock);
		close(member);
		close(lead);
	}

	/* Another thread by its tid, and inherit: the worker's 30 ms count
	   in its own event and the inherited one, never in the main
	   thread's. */
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	long inh = tsc(0, -1, 0, 1), own = tsc(0, -1, 0, 0);
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	sem_wait(&done);
	long other = tsc(worker_tid, -1, 0, 0);
	sem_post(&go);
	sem_wait(&done);
	pthread_join(th, NULL);
	busy(10);
	uint64_t o = value(other), w = value(own), i = value(inh);
	printf("thread by tid 30ms, percent of alone's 60ms %lu\n", o * 100 / r.value);
	printf("main without the thread %d\n", w < o);
	printf("inherit has the thread %d\n", i >= o + w * 9 / 10);
	close(other);
	close(own);

	/* A forked child's 30 ms, inherited. */
	uint64_t before = value(inh);
	pid_t child = fork();
	if (child == 0) {
		busy(30);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("inherit has the child's 30ms, percent of alone's 60ms %lu\n", (value(inh) - before) * 100 / r.value);
	/* inh stays open: the exit closes it. */
}

int main(int argc, char **argv)
{
	FILE *f = fopen("/sys/bus/event_source/devices/msr/type", "r");
	if (argc < 2 || !f || fscanf(f, "%u", &msr_type) != 1) {
		fprintf(stderr, "usage: hwev errnos|count (needs the msr PMU)\n");
		return 2;
	}
	fclose(f);
	if (!strcmp(argv[1], "errnos"))
		errnos();
	else
		count();
	return 0;
}
