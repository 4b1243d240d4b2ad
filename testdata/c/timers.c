/* Exercises LWK timers and signal waits: setitimer and alarm with SIGALRM handlers, pause, interval timers, getitimer, sigtimedwait (taking and timing out), sigsuspend restoring the mask. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig) { (void)sig; ticks++; }

static void arm(long ms, long interval_ms)
{
	struct itimerval it = {{interval_ms / 1000, interval_ms % 1000 * 1000}, {ms / 1000, ms % 1000 * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	arm(30, 0);
	pause();
	printf("one-shot: ticks %d\n", ticks);

	ticks = 0;
	arm(10, 10);
	while (ticks < 3)
		pause();
	arm(0, 0);
	printf("interval: ticks >= 3\n");

	arm(10000, 0);
	struct itimerval cur;
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer: %s\n", cur.it_value.tv_sec >= 9 && cur.it_value.tv_sec <= 10 ? "ok" : "bad");
	printf("alarm(0) left %u\n", alarm(0));

	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	siginfo_t si;
	int sig = sigtimedwait(&set, &si, NULL);
	printf("sigtimedwait: sig %d code %d\n", sig, si.si_code);
	struct timespec ts = {0, 20 * 1000 * 1000};
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig = sigtimedwait(&set, &si, &ts);
	printf("sigtimedwait timeout: %d %s\n", sig, sig < 0 && errno == EAGAIN ? "EAGAIN" : "?");

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	ticks = 0;
	arm(20, 0);
	sigset_t none;
	sigemptyset(&none);
	int r = sigsuspend(&none);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("sigsuspend: %d %s ticks %d alrm still blocked %d\n", r, errno == EINTR ? "EINTR" : "?", ticks, sigismember(&now, SIGALRM));
	return 0;
}
