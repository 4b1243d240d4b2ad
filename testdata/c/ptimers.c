/* POSIX timers (timer_create and the rest): periodic real-time signals with SI_TIMER siginfo, the default sigevent, overruns while the signal is blocked, absolute expiry, SIGEV_THREAD callbacks (glibc's helper thread), SIGEV_NONE, deletion, and the errors. Prints only verdicts, so it reads the same natively and on the LWK. */
// cflags: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, bad_code, last_value, max_overrun, max_getoverrun, alarms;
static timer_t rt_timer;
static atomic_int callbacks;

static void on_rt(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)ctx;
	if (si->si_code != SI_TIMER)
		bad_code = 1;
	last_value = si->si_value.sival_int;
	/* The most, not the last: a 1 ms timer may fire once more between the
	   unblock and the disarm, and that signal carries no overrun. */
	if (si->si_overrun > max_overrun)
		max_overrun = si->si_overrun;
	/* timer_getoverrun tells of the signal just delivered (async-signal
	   safe): asked here, it cannot see a later expiry's signal instead. */
	int over = timer_getoverrun(rt_timer);
	if (over > max_getoverrun)
		max_getoverrun = over;
	hits++;
}

static void on_alarm(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)ctx;
	if (si->si_code == SI_TIMER)
		alarms++;
}

static void callback(union sigval v)
{
	if (v.sival_int == 7)
		atomic_fetch_add(&callbacks, 1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *what, int r)
{
	printf("%s: %d%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	sa.sa_sigaction = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	timer_t t;
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 42;
	say("create monotonic", timer_create(CLOCK_MONOTONIC, &ev, &t));
	rt_timer = t;
	struct itimerspec its = {{0, 5000000}, {0, 5000000}};
	say("arm 5 ms", timer_settime(t, 0, &its, NULL));
	struct itimerspec cur;
	timer_gettime(t, &cur);
	printf("armed: interval %ld ns, value in (0, 5 ms]: %d\n", cur.it_interval.tv_nsec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 5000000);
	while (hits < 10)
		pause();
	printf("10 signals: code SI_TIMER %d, value %d\n", !bad_code, last_value);

	/* Blocked for 60 ms at 1 ms: one signal, many overruns. */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	max_overrun = max_getoverrun = 0;
	struct itimerspec fast = {{0, 1000000}, {0, 1000000}};
	timer_settime(t, 0, &fast, NULL);
	usleep(60000);
	int before = hits;
	sigprocmask(SIG_UNBLOCK, &rt, NULL);
	int over = timer_getoverrun(t);
	if (max_getoverrun > over)
		over = max_getoverrun;
	struct itimerspec off = {{0, 0}, {0, 0}};
	timer_settime(t, 0, &off, NULL);
	printf("blocked: %d signal at unblock, overrun > 20: %d, si_overrun > 20: %d\n", hits - before >= 1 && hits - before <= 3, over > 20, max_overrun > 20);
	timer_gettime(t, &cur);
	printf("disarmed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Absolute: 30 ms from now on the real-time clock. */
	struct timespec rt_now;
	clock_gettime(CLOCK_REALTIME, &rt_now);
	rt_now.tv_nsec += 30000000;
	if (rt_now.tv_nsec >= 1000000000) {
		rt_now.tv_sec++;
		rt_now.tv_nsec -= 1000000000;
	}
	timer_t ta;
	ev.sigev_value.sival_int = 43;
	timer_create(CLOCK_REALTIME, &ev, &ta);
	struct itimerspec abs = {{0, 0}, rt_now};
	double t0 = now();
	before = hits;
	say("arm absolute", timer_settime(ta, TIMER_ABSTIME, &abs, NULL));
	while (hits == before)
		pause();
	double waited = now() - t0;
	printf("absolute: after >= 20 ms %d, value %d\n", waited >= 0.02, last_value);
	say("delete", timer_delete(ta));
	errno = 0;
	say("gettime of a deleted timer", timer_gettime(ta, &cur));

	/* The default sigevent: SIGALRM. */
	timer_t td;
	say("create default", timer_create(CLOCK_MONOTONIC, NULL, &td));
	struct itimerspec once = {{0, 0}, {0, 10000000}};
	timer_settime(td, 0, &once, NULL);
	while (!alarms)
		pause();
	printf("default: SIGALRM with SI_TIMER %d\n", alarms == 1);
	timer_delete(td);

	/* SIGEV_NONE: armed, never signals, counts down. */
	timer_t tn;
	struct sigevent none = {0};
	none.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_MONOTONIC, &none, &tn);
	struct itimerspec long_ = {{0, 0}, {10, 0}};
	timer_settime(tn, 0, &long_, NULL);
	timer_gettime(tn, &cur);
	printf("SIGEV_NONE: counts down %d\n", cur.it_value.tv_sec >= 9);
	timer_delete(tn);

	/* SIGEV_THREAD: glibc's helper thread runs the callback. */
	struct sigevent th = {0};
	th.sigev_notify = SIGEV_THREAD;
	th.sigev_notify_function = callback;
	th.sigev_value.sival_int = 7;
	timer_t tt;
	say("create SIGEV_THREAD", timer_create(CLOCK_MONOTONIC, &th, &tt));
	struct itimerspec tick = {{0, 5000000}, {0, 5000000}};
	timer_settime(tt, 0, &tick, NULL);
	for (int i = 0; i < 200 && atomic_load(&callbacks) < 3; i++)
		usleep(5000);
	printf("SIGEV_THREAD: 3 callbacks %d\n", atomic_load(&callbacks) >= 3);
	timer_delete(tt);

	timer_t tx;
	errno = 0;
	say("bad clock", timer_create(99, &ev, &tx));
	say("CPU-time clock of another pid", timer_create((clockid_t)((~999999) << 3 | 2), &ev, &tx));
	ev.sigev_signo = 99;
	say("bad signal", timer_create(CLOCK_MONOTONIC, &ev, &tx));
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev._sigev_un._tid = 999999;
	say("SIGEV_THREAD_ID of no thread", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tx));
	ev._sigev_un._tid = gettid();
	int kid;
	say("SIGEV_THREAD_ID of itself", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &kid));
	say("settime of no timer", syscall(SYS_timer_settime, 12345, 0, &its, NULL));
	struct itimerspec neg = {{0, 0}, {0, 2000000000}};
	say("bad timespec", syscall(SYS_timer_settime, kid, 0, &neg, NULL));
	say("create to a bad pointer", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, (void *)8));
	return 0;
}
