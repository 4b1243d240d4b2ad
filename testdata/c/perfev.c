// cflags: -pthread
/* perf_event_open's software events, read formats, groups, ioctls and
   errnos, printed as "key value" lines that the test compares between a
   native run and one under mcexec: a task-clock group over a busy loop of
   BUSY_MS that touches PAGES fresh pages, then resets, partial enables and
   bad input; with "hw", Linux's events (below). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUSY_MS 60
#define PAGES 256

static const struct {
	const char *name;
	uint64_t config;
} members[] = {
	{"page-faults", PERF_COUNT_SW_PAGE_FAULTS},
	{"minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN},
	{"major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ},
	{"context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
	{"cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS},
	{"alignment-faults", PERF_COUNT_SW_ALIGNMENT_FAULTS},
	{"emulation-faults", PERF_COUNT_SW_EMULATION_FAULTS},
	{"cpu-clock", PERF_COUNT_SW_CPU_CLOCK},
	{"dummy", PERF_COUNT_SW_DUMMY},
};
#define NMEMBERS (sizeof members / sizeof members[0])

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

/* result prints what a call returned: "ok" or its errno's name. */
static void result(const char *what, long r)
{
	printf("%s %s\n", what, r >= 0 ? "ok" : strerrorname_np(errno));
}

static void try_open(const char *what, struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long flags)
{
	long fd = perf_open(a, pid, cpu, group, flags);
	result(what, fd);
	if (fd >= 0)
		close(fd);
}

static void busy(int ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < ms * 1000000L);
}

/* touch makes pages page faults: the LWK populates a mapping at mmap
   unless MAP_NORESERVE, and then FAULT_AROUND pages per fault, so one page
   of every FAULT_AROUND is touched (Linux faults anonymous pages one by
   one). */
#define FAULT_AROUND 16
static void touch(int pages)
{
	long len = pages * FAULT_AROUND * 4096L;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	for (int i = 0; i < pages; i++)
		p[i * FAULT_AROUND * 4096L] = 1;
	munmap(p, len);
}

struct group_read {
	uint64_t nr, enabled, running;
	struct {
		uint64_t value, id;
	} v[1 + NMEMBERS];
};

/* read_group prints the group's values under label. */
static void read_group(const char *label, int leader, const int *fds)
{
	struct group_read g;
	long n = read(leader, &g, sizeof g);
	if (n < 0) {
		result(label, n);
		return;
	}
	printf("%s nr %llu\n", label, (unsigned long long)g.nr);
	printf("%s size %ld\n", label, n);
	printf("%s task-clock %llu\n", label, (unsigned long long)g.v[0].value);
	for (unsigned i = 0; i < NMEMBERS && i + 1 < g.nr; i++)
		printf("%s %s %llu\n", label, members[i].name, (unsigned long long)g.v[i + 1].value);
	printf("%s time-enabled %llu\n", label, (unsigned long long)g.enabled);
	printf("%s running-is-enabled %d\n", label, g.running == g.enabled);
	int ids = 1;
	for (unsigned i = 0; i <= NMEMBERS; i++) {
		uint64_t id = 0;
		if (ioctl(fds[i], PERF_EVENT_IOC_ID, &id) < 0 || id != g.v[i].id || id == 0)
			ids = 0;
		for (unsigned j = 0; j < i; j++)
			if (g.v[j].id == id)
				ids = 0;
	}
	printf("%s ids-match %d\n", label, ids);
}

/* A second thread, counted by the main one: it busy-loops, then waits
   while the main thread reads its event. */
static sem_t worker_busy, worker_go, worker_done;
static pid_t worker_tid;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = syscall(SYS_gettid);
	sem_post(&worker_busy);
	sem_wait(&worker_go);
	busy(30);
	sem_post(&worker_done);
	sem_wait(&worker_go);
	return NULL;
}

static void other_thread(void)
{
	struct perf_event_attr a;
	pthread_t th;
	uint64_t v;
	sem_init(&worker_busy, 0, 0);
	sem_init(&worker_go, 0, 0);
	sem_init(&worker_done, 0, 0);
	int err = pthread_create(&th, NULL, worker, NULL);
	if (err != 0) {
		printf("thread create %s\n", strerrorname_np(err));
		return;
	}
	sem_wait(&worker_busy);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	long fd = perf_open(&a, worker_tid, -1, -1, 0);
	result("open thread", fd);
	sem_post(&worker_go);
	sem_wait(&worker_done);
	usleep(20000); /* the worker is asleep in sem_wait by now */
	result("read thread", read(fd, &v, sizeof v));
	printf("thread task-clock %llu\n", (unsigned long long)v);
	sem_post(&worker_go);
	pthread_join(th, NULL);
	result("read thread ended", read(fd, &v, sizeof v));
	printf("thread ended task-clock %llu\n", (unsigned long long)v);
	close(fd);
}

/* after_exec runs in the image perfev execs: fd counts from the exec on
   (enable_on_exec), cloexec_fd was closed by it. */
static int after_exec(int fd, int cloexec_fd)
{
	uint64_t v;
	busy(10);
	result("exec read", read(fd, &v, sizeof v));
	printf("exec task-clock %llu\n", (unsigned long long)v);
	result("exec read cloexec", read(cloexec_fd, &v, sizeof v));
	return 0;
}

/* hold opens a page-faults event in a task-clock group, says "ready" and
   waits for stdin's end, for a reader of the kernel's state. */
static int hold(void)
{
	struct perf_event_attr a;
	char c;
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	int leader = perf_open(&a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS);
	if (leader < 0 || perf_open(&a, 0, -1, leader, 0) < 0) {
		perror("perf_event_open");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) == 1)
		;
	return 0;
}

/* Linux's events an app opens: hardware, cache and raw ones, and those of
   the host's dynamic PMUs (msr), which the LWK counts on the stub thread
   that runs the app ("perfev hw errnos|count"):
     errnos  what perf_event_open answers for hardware, cache and raw
             events in every way of opening them (ENOENT on a host without
             a PMU), and for bad msr configs;
     count   msr/tsc/ (TSC ticks while the thread runs) over busy loops,
             beside the task clock: alone, in groups either way round,
             disabled, enabled, reset, with its times, on another thread by
             its tid, and inherited by a thread and a child process. The
             busy loops make no system call (the vDSO's clock), so the
             stub runs them whole. */
static unsigned msr_type;

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

/* An event by its perf name. */
struct named_event {
	const char *name;
	uint32_t type;
	uint64_t config;
};

static void hw_errnos(void)
{
	static const struct named_event events[] = {
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
		try_open(what, &a, pid, cpu, group, 0);                \
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
	try_open("msr config unknown", &a, 0, -1, -1, 0);
	attr_init(&a, msr_type, 0);
	a.sample_period = 1000;
	try_open("msr sampling", &a, 0, -1, -1, 0);
	/* Linux modifies breakpoints only. */
	long fd = tsc(0, -1, 0, 0);
	attr_init(&a, msr_type, 0);
	result("msr modify", ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &a));
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	result("msr modify type", ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &a));
	close(fd);

	/* Unprivileged, with kernel.perf_event_paranoid 2: the kernel is not
	   to be counted, whatever the event. */
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		if (setuid(65534) < 0)
			_exit(1);
		const struct named_event unpriv[] = {
			{"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
			{"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
			{"msr/tsc/", msr_type, 0},
		};
		for (unsigned i = 0; i < sizeof unpriv / sizeof *unpriv; i++)
			for (int user_only = 0; user_only <= 1; user_only++) {
				char what[64];
				snprintf(what, sizeof what, "unprivileged %s%s", unpriv[i].name, user_only ? " user-only" : "");
				attr_init(&a, unpriv[i].type, unpriv[i].config);
				a.exclude_kernel = a.exclude_hv = user_only;
				try_open(what, &a, 0, -1, -1, 0);
			}
		fflush(stdout);
		_exit(0);
	}
	waitpid(child, NULL, 0);
}

static sem_t hw_go, hw_done;
static volatile pid_t hw_worker_tid;

/* hw_worker busies itself for 30 ms when told to. */
static void *hw_worker(void *arg)
{
	(void)arg;
	hw_worker_tid = gettid();
	sem_post(&hw_done);
	sem_wait(&hw_go);
	busy(30);
	sem_post(&hw_done);
	return NULL;
}

static void hw_count(void)
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
	sem_init(&hw_go, 0, 0);
	sem_init(&hw_done, 0, 0);
	long inh = tsc(0, -1, 0, 1), own = tsc(0, -1, 0, 0);
	pthread_t th;
	pthread_create(&th, NULL, hw_worker, NULL);
	sem_wait(&hw_done);
	long other = tsc(hw_worker_tid, -1, 0, 0);
	sem_post(&hw_go);
	sem_wait(&hw_done);
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

/* hw_migrate counts msr/tsc/ over a busy loop on one CPU and then on
   another (sched_setaffinity): a thread that migrates is counted on the
   next CPU's stub too. */
static int hw_migrate(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) < 2) {
		fprintf(stderr, "perfev hw migrate: needs two CPUs\n");
		return 2;
	}
	int cpus[2], n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	long t = tsc(0, -1, 0, 0), clk = task_clock(-1, 0);
	int ran[2];
	for (int i = 0; i < 2; i++) {
		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0) {
			perror("sched_setaffinity");
			return 1;
		}
		busy(30);
		ran[i] = sched_getcpu();
	}
	printf("migrated %d\n", ran[0] == cpus[0] && ran[1] == cpus[1]);
	printf("migrated tsc-per-us %lu\n", value(t) * 1000 / value(clk));
	return 0;
}

static int hw(const char *what)
{
	FILE *f = fopen("/sys/bus/event_source/devices/msr/type", "r");
	if (!f || fscanf(f, "%u", &msr_type) != 1) {
		fprintf(stderr, "perfev hw: no msr PMU\n");
		return 2;
	}
	fclose(f);
	if (!strcmp(what, "migrate"))
		return hw_migrate();
	if (!strcmp(what, "errnos"))
		hw_errnos();
	else
		hw_count();
	return 0;
}

int main(int argc, char **argv)
{
	struct perf_event_attr a;
	int fds[1 + NMEMBERS];

	if (argc == 4 && strcmp(argv[1], "exec") == 0)
		return after_exec(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "hold") == 0)
		return hold();
	if (argc == 3 && strcmp(argv[1], "hw") == 0)
		return hw(argv[2]);

	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.disabled = 1;
	a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
			PERF_FORMAT_TOTAL_TIME_RUNNING;
	fds[0] = perf_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	result("open task-clock", fds[0]);
	if (fds[0] < 0)
		return 1;
	for (unsigned i = 0; i < NMEMBERS; i++) {
		char what[64];
		attr_init(&a, PERF_TYPE_SOFTWARE, members[i].config);
		a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID;
		fds[i + 1] = perf_open(&a, i % 2 ? syscall(SYS_gettid) : 0, -1, fds[0], PERF_FLAG_FD_CLOEXEC);
		snprintf(what, sizeof what, "open %s", members[i].name);
		result(what, fds[i + 1]);
		if (fds[i + 1] < 0)
			return 1;
	}

	/* The leader is disabled: nothing counts yet. */
	touch(16);
	read_group("before", fds[0], fds);

	ioctl(fds[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	busy(BUSY_MS);
	touch(PAGES);
	result("disable", ioctl(fds[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP));
	read_group("busy", fds[0], fds);

	/* Disabled: the counts stay. */
	touch(16);
	read_group("disabled", fds[0], fds);

	result("reset", ioctl(fds[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP));
	read_group("reset", fds[0], fds);

	/* The leader alone enabled: its members are disabled and stay 0. */
	result("enable-leader", ioctl(fds[0], PERF_EVENT_IOC_ENABLE, 0));
	busy(10);
	touch(16);
	ioctl(fds[0], PERF_EVENT_IOC_DISABLE, 0);
	read_group("leader-only", fds[0], fds);

	/* A member read alone, with its own read format. */
	{
		struct perf_event_attr b;
		uint64_t v[3];
		attr_init(&b, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS);
		b.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		int fd = perf_open(&b, 0, -1, -1, 0);
		result("open alone", fd);
		touch(PAGES);
		long n = read(fd, v, sizeof v);
		printf("alone size %ld\n", n);
		printf("alone page-faults %llu\n", (unsigned long long)v[0]);
		printf("alone running-is-enabled %d\n", v[1] == v[2]);
		result("read short", read(fd, v, 8));
		b.read_format = PERF_FORMAT_ID | PERF_FORMAT_LOST;
		int lost_fd = perf_open(&b, 0, -1, -1, 0);
		uint64_t id;
		ioctl(lost_fd, PERF_EVENT_IOC_ID, &id);
		printf("lost size %ld\n", read(lost_fd, v, sizeof v));
		printf("lost id-match %d\n", v[1] == id);
		printf("lost lost %llu\n", (unsigned long long)v[2]);
		close(lost_fd);
		result("ioctl unknown", ioctl(fd, _IO('$', 99), 0));
		result("ioctl set-output none", ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, -1L));
		result("ioctl set-output int -1", ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, -1));
		result("ioctl set-output self", ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, fd));
		result("ioctl set-output other", ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, fds[0]));
		result("ioctl set-output not perf", ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, 0));
		uint64_t period = 1000;
		result("ioctl period", ioctl(fd, PERF_EVENT_IOC_PERIOD, &period));
		result("ioctl refresh", ioctl(fd, PERF_EVENT_IOC_REFRESH, 1));
		result("ioctl pause-output", ioctl(fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 1));
		result("ioctl set-filter", ioctl(fd, PERF_EVENT_IOC_SET_FILTER, "filter"));
		result("ioctl set-bpf", ioctl(fd, PERF_EVENT_IOC_SET_BPF, 0));
		uint32_t ids[4] = {4};
		result("ioctl query-bpf", ioctl(fd, PERF_EVENT_IOC_QUERY_BPF, ids));
		struct perf_event_attr m;
		attr_init(&m, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS);
		result("ioctl modify", ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &m));
		attr_init(&m, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
		result("ioctl modify type", ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &m));
		/* Descriptors replaced or closed in bulk stop being events. */
		int over = perf_open(&b, 0, -1, -1, 0), null = open("/dev/null", O_RDONLY);
		dup2(null, over);
		printf("dup2 read size %ld\n", read(over, v, sizeof v));
		close(null);
		close(over);
		over = perf_open(&b, 0, -1, -1, 0);
		result("close_range", syscall(SYS_close_range, over, over, 0));
		result("close_range read", read(over, v, sizeof v));
		result("close", close(fd));
		result("read closed", read(fd, v, sizeof v));
		result("ioctl closed", ioctl(fd, PERF_EVENT_IOC_ENABLE, 0));
		try_open("group closed", &b, 0, -1, fd, 0);
		try_open("group not perf", &b, 0, -1, 0, 0);
	}

	other_thread();

	/* Bad input. */
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	try_open("flags bad", &a, 0, -1, -1, 1UL << 8);
	try_open("pid none", &a, 999999, -1, -1, 0);
	try_open("pid negative", &a, -5, -1, -1, 0);
	try_open("pid -1 cpu -1", &a, -1, -1, -1, 0);
	try_open("cpu bad", &a, 0, 9999, -1, 0);
	try_open("pid self", &a, getpid(), -1, -1, 0);
	a.read_format = 1 << 10;
	try_open("read-format bad", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.__reserved_1 = 1;
	try_open("attr reserved bit", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	try_open("attr bad address", (struct perf_event_attr *)8, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.size = 8;
	try_open("size small", &a, 0, -1, -1, 0);
	printf("size written %u\n", a.size >= PERF_ATTR_SIZE_VER0);
	{
		char big[512] = {0};
		attr_init((struct perf_event_attr *)big, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
		((struct perf_event_attr *)big)->size = sizeof big;
		try_open("size large zeros", (struct perf_event_attr *)big, 0, -1, -1, 0);
		big[400] = 1;
		try_open("size large junk", (struct perf_event_attr *)big, 0, -1, -1, 0);
	}
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.size = 0;
	try_open("size zero", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, 999);
	try_open("software unknown", &a, 0, -1, -1, 0);
	attr_init(&a, 1000, 0);
	try_open("type unknown", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
	try_open("hardware cycles", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS);
	try_open("hardware instructions", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_HW_CACHE,
		  PERF_COUNT_HW_CACHE_L1D | PERF_COUNT_HW_CACHE_OP_READ << 8 | PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
	try_open("cache l1d", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_RAW, 0x3c);
	try_open("raw", &a, 0, -1, -1, 0);

	/* Sampling, which the LWK does not do yet, and inherit. */
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.sample_period = 100000;
	try_open("sampling", &a, 0, -1, -1, 0);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.inherit = 1;
	try_open("inherit", &a, 0, -1, -1, 0);

	/* enable_on_exec, and an event closed on exec. */
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	a.disabled = 1;
	a.enable_on_exec = 1;
	long on_exec = perf_open(&a, 0, -1, -1, 0);
	result("open enable-on-exec", on_exec);
	attr_init(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	long cloexec = perf_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	result("open cloexec", cloexec);
	char fd1[16], fd2[16];
	snprintf(fd1, sizeof fd1, "%ld", on_exec);
	snprintf(fd2, sizeof fd2, "%ld", cloexec);
	fflush(stdout);
	execl(argv[0], argv[0], "exec", fd1, fd2, (char *)NULL);
	perror("execl");
	return 1;
}
