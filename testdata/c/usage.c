/* Checks the kernel's accounting against itself and against fixed work: getrusage (self, children, thread), times, wait4's and waitid's rusage, the CPU-time clocks (fixed ids, clock_getcpuclockid, pthread_getcpuclockid), /proc/self/stat's times, and their errors. Prints only verdicts, so its output is the same natively and on the LWK. */
// cflags: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char *what, double got)
{
	if (ok)
		printf("ok: %s\n", what);
	else {
		printf("FAIL: %s (%.3f)\n", what, got);
		failed = 1;
	}
}

static double now(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return -1;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

static double cpu(const struct rusage *ru) { return tv(ru->ru_utime) + tv(ru->ru_stime); }

static volatile unsigned long sink;

/* work burns a fixed amount of CPU (about 0.1 s per unit here), whatever
 * the load, and returns the wall time it took. */
static double work(int units)
{
	double t0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < units * 40000000L; i++)
		sink += i ^ (sink >> 3);
	return now(CLOCK_MONOTONIC) - t0;
}

static void *worker(void *arg)
{
	(void)arg;
	work(1);
	return NULL;
}

/* statTimes reads utime+stime and cutime+cstime of /proc/self/stat, in
 * seconds. */
static void statTimes(double *self, double *children)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long v[15] = {0};
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]);
	long hz = sysconf(_SC_CLK_TCK);
	*self = (double)(v[0] + v[1]) / hz;
	*children = (double)(v[2] + v[3]) / hz;
}

int main(void)
{
	double wall = work(3);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double self = cpu(&ru);
	check(self > 0.05 && self < wall + 0.05, "getrusage(SELF) counts the work", self);
	check(tv(ru.ru_utime) > tv(ru.ru_stime), "the work is user time", tv(ru.ru_stime));
	check(ru.ru_maxrss > 100, "ru_maxrss is in KiB", ru.ru_maxrss);

	double pc = now(CLOCK_PROCESS_CPUTIME_ID);
	check(pc >= self - 0.02 && pc < self + 0.05, "CLOCK_PROCESS_CPUTIME_ID is getrusage's", pc - self);
	double tc = now(CLOCK_THREAD_CPUTIME_ID);
	check(tc > 0.05 && tc <= pc + 0.01, "CLOCK_THREAD_CPUTIME_ID counts the thread", tc);
	clockid_t pid_clock, tid_clock;
	check(clock_getcpuclockid(getpid(), &pid_clock) == 0, "clock_getcpuclockid(getpid())", 0);
	double pcc = now(pid_clock);
	check(pcc >= pc && pcc < pc + 0.05, "the pid's clock is the process's", pcc - pc);
	check(pthread_getcpuclockid(pthread_self(), &tid_clock) == 0, "pthread_getcpuclockid", 0);
	double tcc = now(tid_clock);
	check(tcc >= tc && tcc < tc + 0.05, "the thread's clock is the thread's", tcc - tc);
	struct timespec res;
	check(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1, "CPU clocks count in ns", res.tv_nsec);

	struct tms tms;
	clock_t t0 = times(&tms);
	long hz = sysconf(_SC_CLK_TCK);
	double tself = (double)(tms.tms_utime + tms.tms_stime) / hz;
	check(t0 != (clock_t)-1 && tself > self - 0.05 && tself < self + 0.05, "times is getrusage's", tself - self);
	double sself, schildren;
	statTimes(&sself, &schildren);
	check(sself > self - 0.05 && sself < self + 0.05, "/proc/self/stat's times are getrusage's", sself - self);

	struct rusage th;
	getrusage(RUSAGE_THREAD, &th);
	check(cpu(&th) > 0.05 && cpu(&th) <= cpu(&ru) + 0.05, "getrusage(THREAD)", cpu(&th));

	pthread_t w;
	pthread_create(&w, NULL, worker, NULL);
	pthread_join(w, NULL);
	struct rusage after;
	getrusage(RUSAGE_SELF, &after);
	check(cpu(&after) > self + 0.02, "an ended thread's time stays the process's", cpu(&after) - self);

	pid_t pid = fork();
	if (pid == 0) {
		work(2);
		_exit(0);
	}
	int st;
	struct rusage cru;
	check(wait4(pid, &st, 0, &cru) == pid && WIFEXITED(st), "wait4", 0);
	check(cpu(&cru) > 0.04, "wait4's rusage is the child's", cpu(&cru));
	struct rusage children;
	getrusage(RUSAGE_CHILDREN, &children);
	check(cpu(&children) >= cpu(&cru) - 0.001, "getrusage(CHILDREN) has the reaped child", cpu(&children));
	struct rusage me;
	getrusage(RUSAGE_SELF, &me);
	check(cpu(&me) < cpu(&after) + 0.05, "the child's time is not the parent's", cpu(&me) - cpu(&after));
	times(&tms);
	double tchildren = (double)(tms.tms_cutime + tms.tms_cstime) / hz;
	check(tchildren > cpu(&children) - 0.05 && tchildren < cpu(&children) + 0.05, "times' children are getrusage's", tchildren);
	statTimes(&sself, &schildren);
	check(schildren > cpu(&children) - 0.05 && schildren < cpu(&children) + 0.05, "/proc/self/stat's cutime and cstime", schildren);

	pid = fork();
	if (pid == 0) {
		work(1);
		_exit(0);
	}
	siginfo_t si;
	struct rusage wru;
	memset(&wru, 0, sizeof wru);
	check(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &wru) == 0 && cpu(&wru) > 0.02, "waitid's rusage", cpu(&wru));

	errno = 0;
	check(getrusage(99, &ru) == -1 && errno == EINVAL, "getrusage(99) is EINVAL", errno);
	errno = 0;
	check(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8) == -1 && errno == EFAULT, "getrusage to a bad pointer is EFAULT", errno);
	struct timespec ts;
	errno = 0;
	check(clock_gettime((clockid_t)((~999999) << 3 | 2), &ts) == -1 && errno == EINVAL, "an unknown pid's clock is EINVAL", errno);
	errno = 0;
	check(clock_gettime((clockid_t)((~999999) << 3 | 6), &ts) == -1 && errno == EINVAL, "an unknown thread's clock is EINVAL", errno);
	errno = 0;
	check(clock_gettime((clockid_t)((~0) << 3 | 3 | 4), &ts) == -1 && errno == EINVAL, "a bad CPU clock kind is EINVAL", errno);
	return failed;
}
