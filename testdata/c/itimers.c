/* ITIMER_VIRTUAL and ITIMER_PROF: signals after CPU time, periodic, reported by getitimer and by setitimer's old value, and their errors. The busy loops make a cheap system call now and then, as CPython's test_signal does (the LWK looks at these timers when a call ends). Prints only verdicts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t vt, prof;

static void on_vt(int sig) { (void)sig; vt++; }
static void on_prof(int sig) { (void)sig; prof++; }

static volatile unsigned long sink;

/* spin burns CPU until *count reaches n, or about 10 s of iterations. */
static int spin(volatile sig_atomic_t *count, int n)
{
	for (long i = 0; i < 4000000000L && *count < n; i++) {
		sink += i;
		if (i % 10000 == 0)
			getppid();
	}
	return *count >= n;
}

int main(void)
{
	signal(SIGVTALRM, on_vt);
	signal(SIGPROF, on_prof);
	struct itimerval it = {{0, 20000}, {0, 30000}}, cur, old;
	printf("set virtual: %d\n", setitimer(ITIMER_VIRTUAL, &it, NULL));
	getitimer(ITIMER_VIRTUAL, &cur);
	/* Linux rounds the value up to its tick. */
	printf("virtual armed: interval %ld us, value in (0, 40 ms]: %d\n", (long)cur.it_interval.tv_usec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 40000);
	printf("3 SIGVTALRM: %d\n", spin(&vt, 3));
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_VIRTUAL, &off, &old);
	printf("old interval %ld us\n", (long)old.it_interval.tv_usec);
	getitimer(ITIMER_VIRTUAL, &cur);
	printf("virtual disarmed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

	struct itimerval once = {{0, 0}, {0, 20000}};
	printf("set prof: %d\n", setitimer(ITIMER_PROF, &once, NULL));
	printf("1 SIGPROF: %d\n", spin(&prof, 1));
	getitimer(ITIMER_PROF, &cur);
	printf("prof one-shot spent: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

	int r = setitimer(3, &it, NULL);
	printf("which 3: %d %s\n", r, strerror(errno));
	struct itimerval bad = {{0, 0}, {0, 2000000}};
	r = setitimer(ITIMER_VIRTUAL, &bad, NULL);
	printf("bad usec: %d %s\n", r, strerror(errno));
	return 0;
}
