// procview: what a program reads of itself in /proc and of the machine in
// /sys agrees with what its system calls say. Natively that is Linux's
// view; on the LWK it must be the LWK's (pids, tids, maps, CPUs, nodes).
// Every line prints "ok" or what disagreed, so runs compare as text.
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static char buf[1 << 16];

// slurp reads a whole file into buf; the length, or -1.
static long slurp(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

static void report(const char *what, int ok) { printf("%s %s\n", what, ok ? "ok" : "WRONG"); }

// statusField returns the value of "key:" in /proc/<path>/status.
static long statusField(const char *path, const char *key) {
	if (slurp(path) < 0)
		return -1;
	char *p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

// mapsName returns the name of the /proc/self/maps line covering addr, with
// its permissions in perm, or NULL.
static const char *mapsName(unsigned long addr, char perm[5]) {
	static char name[PATH_MAX];
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %s", &lo, &hi, perm, name) >= 3 && lo <= addr && addr < hi) {
			fclose(f);
			return name;
		}
	}
	if (f)
		fclose(f);
	return NULL;
}

static pthread_barrier_t started, done;
static pid_t tids[3];

static void *worker(void *arg) {
	long i = (long)arg;
	tids[i] = syscall(SYS_gettid);
	char stat[256] = "";
	int fd = open("/proc/thread-self/stat", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, stat, sizeof stat - 1) < 0)
			stat[0] = 0;
		close(fd);
	}
	long id = strtol(stat, NULL, 10);
	if (id != tids[i])
		printf("thread-self stat names %ld, not %d\n", id, tids[i]);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&done);
	return NULL;
}

static void threads(void) {
	pthread_t th[3];
	pthread_barrier_init(&started, NULL, 4);
	pthread_barrier_init(&done, NULL, 4);
	for (long i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
			puts("pthread_create failed");
			return;
		}
	pthread_barrier_wait(&started);
	report("status Threads", statusField("/proc/self/status", "Threads:") == 4);
	int seen = 0, entries = 0;
	DIR *d = opendir("/proc/self/task");
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		entries++;
		long id = strtol(e->d_name, NULL, 10);
		for (int i = 0; i < 3; i++)
			seen += id == tids[i];
		seen += id == getpid();
	}
	if (d)
		closedir(d);
	report("task lists the threads", entries == 4 && seen == 4);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/status", tids[1]);
	report("task status Pid", statusField(path, "Pid:") == tids[1]);
	snprintf(path, sizeof path, "/proc/%d/status", tids[2]);
	report("tid status Tgid", statusField(path, "Tgid:") == getpid());
	pthread_barrier_wait(&done);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
}

// cpus compares the CPU counts glibc reads from /sys with the affinity
// mask the scheduler gives (which may be narrower, as in a cpuset).
static void cpus(void) {
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	long online = slurp("/sys/devices/system/cpu/online") > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : -1;
	report("online CPUs cover affinity", online >= CPU_COUNT(&set));
	report("configured CPUs cover online", get_nprocs_conf() >= get_nprocs());
	int ok = 1;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		char path[64];
		struct stat st;
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", c);
		if (CPU_ISSET(c, &set) && stat(path, &st) != 0)
			ok = 0;
	}
	report("affinity CPUs have sysfs directories", ok);
	long n = slurp("/sys/devices/system/node/online");
	report("node list", n > 0 && buf[0] >= '0' && buf[0] <= '9');
	n = slurp("/sys/devices/system/node/node0/meminfo");
	char *total = n > 0 ? strstr(buf, "MemTotal:") : NULL;
	report("node0 meminfo", total && strtol(total + 9, NULL, 10) > 0);
}

int main(int argc, char **argv) {
	if (argc > 1) {
		printf("%s ok\n", argv[1]); // started again by exec
		return 0;
	}
	char self[PATH_MAX], exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	report("exe", realpath(argv[0], self) && strcmp(self, exe) == 0);
	struct stat a, b;
	report("exe opens the program", stat("/proc/self/exe", &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino);

	report("stat pid", slurp("/proc/self/stat") > 0 && strtol(buf, NULL, 10) == getpid());
	char *after = strrchr(buf, ')');
	char state = after ? after[2] : '?';
	long ppid = after ? strtol(after + 4, NULL, 10) : -1;
	report("stat state", state == 'R');
	report("stat ppid", ppid == getppid());
	report("status Pid", statusField("/proc/self/status", "\nPid:") == getpid());
	report("status PPid", statusField("/proc/self/status", "PPid:") == getppid());
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", getpid());
	report("pid status", statusField(path, "Tgid:") == getpid());

	const char *base = strrchr(self, '/') + 1;
	size_t cl = strlen(base) < 15 ? strlen(base) : 15;
	report("comm", slurp("/proc/self/comm") == (long)cl + 1 && strncmp(buf, base, cl) == 0);
	n = slurp("/proc/self/cmdline");
	report("cmdline", n == (long)strlen(argv[0]) + 1 && strcmp(buf, argv[0]) == 0);
	n = slurp("/proc/self/environ");
	long want = 0;
	for (char **e = environ; *e; e++)
		want += strlen(*e) + 1;
	report("environ", n == want && (!environ[0] || strcmp(buf, environ[0]) == 0));
	n = slurp("/proc/self/auxv");
	unsigned long pagesz = 0, entry = 0;
	for (long i = 0; i + 16 <= n; i += 16) {
		unsigned long k = *(unsigned long *)(buf + i), v = *(unsigned long *)(buf + i + 8);
		if (k == AT_PAGESZ)
			pagesz = v;
		if (k == AT_ENTRY)
			entry = v;
	}
	report("auxv", pagesz == 4096 && entry == getauxval(AT_ENTRY));
	long size, rss;
	report("statm", slurp("/proc/self/statm") > 0 && sscanf(buf, "%ld %ld", &size, &rss) == 2 && rss > 0 && rss <= size);

	char perm[5];
	int local = 0;
	const char *m = mapsName((unsigned long)&local, perm);
	report("maps: stack", m && strcmp(m, "[stack]") == 0 && strcmp(perm, "rw-p") == 0);
	char *heap = malloc(64);
	m = mapsName((unsigned long)heap, perm);
	report("maps: heap", m && strcmp(m, "[heap]") == 0);
	free(heap);
	m = mapsName((unsigned long)main, perm);
	report("maps: text", m && strcmp(m, self) == 0 && perm[2] == 'x');
	m = mapsName(getauxval(AT_SYSINFO_EHDR), perm);
	report("maps: vdso", m && strcmp(m, "[vdso]") == 0);
	pthread_attr_t attr;
	void *stk;
	size_t stksz;
	report("main thread stack from maps", pthread_getattr_np(pthread_self(), &attr) == 0 &&
		pthread_attr_getstack(&attr, &stk, &stksz) == 0 &&
		(char *)stk <= (char *)&local && (char *)&local < (char *)stk + stksz);
	report("fd links stay Linux's", readlink("/proc/self/fd/1", exe, sizeof exe) > 0);

	threads();
	cpus();
	fflush(stdout);

	int fd = open(self, O_RDONLY);
	char *args[] = {argv[0], "fexecve", NULL};
	fexecve(fd, args, environ);
	perror("fexecve");
	return 1;
}
