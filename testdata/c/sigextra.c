/* Exercises more signal paths: a stack overflow caught on an alternate stack, a NULL write caught and left with siglongjmp, alarm interrupting a blocking pipe read with and without SA_RESTART, sigqueue values (and queued real-time signals), and sigtimedwait taking a blocked SIGCHLD. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALTSIZE (256 * 1024)
static char *altstack;
static sigjmp_buf jb;
static volatile sig_atomic_t got, onalt, code, value, usr1value, fromself, handled;
static volatile void *addr;
static volatile int stop; /* never set: keeps the recursion from being provably infinite */
static int fds[2], feedfd = -1;
static int rtvals[8], nrt;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char here;
	got = sig;
	code = si->si_code;
	addr = si->si_addr;
	onalt = (uintptr_t)&here >= (uintptr_t)altstack && (uintptr_t)&here < (uintptr_t)altstack + ALTSIZE;
	siglongjmp(jb, 1);
}

static long recurse(long depth)
{
	volatile char frame[512];
	frame[0] = (char)depth;
	if (stop)
		return frame[0];
	return recurse(depth + 1) + frame[0];
}

static void alarm_handler(int sig)
{
	got = sig;
	if (handled++ == 0 && feedfd >= 0)
		write(feedfd, "r", 1); /* the restarted read gets this */
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	code = si->si_code;
	value = si->si_value.sival_int;
	if (sig == SIGUSR1)
		usr1value = value;
	fromself = si->si_pid == getpid() && si->si_uid == getuid();
	if (sig == SIGRTMIN && nrt < 8)
		rtvals[nrt++] = si->si_value.sival_int;
}

/* readpipe sets up the SIGALRM handler with flags, starts a timer and reads
 * from an empty pipe whose write end stays open. */
static void readpipe(const char *label, int flags, int useitimer)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = alarm_handler;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
	pipe(fds);
	got = handled = 0;
	feedfd = flags & SA_RESTART ? fds[1] : -1;
	if (useitimer) {
		struct itimerval it = {{0, 0}, {0, 20 * 1000}};
		setitimer(ITIMER_REAL, &it, NULL);
	} else {
		alarm(1);
	}
	char c = 0;
	errno = 0;
	ssize_t n = read(fds[0], &c, 1);
	int e = errno;
	printf("%s: read %zd (%s), byte '%c', handler ran %d\n", label, n, n < 0 ? strerror(e) : "ok",
	       c ? c : '-', handled);
	close(fds[0]);
	close(fds[1]);
	feedfd = -1;
}

int main(void)
{
	struct sigaction sa;
	altstack = malloc(ALTSIZE);
	stack_t ss = {.ss_sp = altstack, .ss_size = ALTSIZE};
	if (sigaltstack(&ss, NULL) != 0) {
		perror("sigaltstack");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(jb, 1) == 0)
		recurse(0);
	printf("stack overflow: sig %d on altstack %d\n", got, onalt);

	/* Again after the siglongjmp: the mask was restored, SIGSEGV is not blocked. */
	got = onalt = 0;
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)(uintptr_t)stop = 1;
	printf("NULL write: sig %d code %s addr %p on altstack %d\n", got,
	       code == SEGV_MAPERR ? "SEGV_MAPERR" : "OTHER", (void *)addr, onalt);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	got = onalt = 0;
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)(uintptr_t)stop = 1;
	printf("NULL write without altstack: sig %d on altstack %d\n", got, onalt);

	readpipe("alarm, no SA_RESTART", 0, 0);
	readpipe("itimer, SA_RESTART", SA_RESTART, 1);

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGRTMIN, &sa, NULL);
	got = 0;
	int r = sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 1234});
	printf("sigqueue: %d sig %s code %s value %d from self %d\n", r, got == SIGUSR1 ? "SIGUSR1" : "OTHER",
	       code == SI_QUEUE ? "SI_QUEUE" : "OTHER", value, fromself);

	/* Blocked real-time signals queue each value, standard ones merge. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (int i = 1; i <= 3; i++) {
		sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
		sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 10 + i});
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("queued SIGRTMIN values:");
	for (int i = 0; i < nrt; i++)
		printf(" %d", rtvals[i]);
	printf("; SIGUSR1 value %d\n", usr1value);

	/* sigtimedwait: nothing pending times out, then a child's SIGCHLD. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t si;
	struct timespec shortwait = {0, 10 * 1000 * 1000}, longwait = {10, 0};
	r = sigtimedwait(&set, &si, &shortwait);
	printf("sigtimedwait, nothing pending: %d %s\n", r, strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(4);
	memset(&si, 0, sizeof si);
	r = sigtimedwait(&set, &si, &longwait);
	int st = 0;
	pid_t w = waitpid(pid, &st, 0);
	printf("sigtimedwait: %s code %s status %d pid %s; waitpid %s exit %d\n", r == SIGCHLD ? "SIGCHLD" : "OTHER",
	       si.si_code == CLD_EXITED ? "CLD_EXITED" : "OTHER", si.si_status, si.si_pid == pid ? "ok" : "WRONG",
	       w == pid ? "ok" : "WRONG", WEXITSTATUS(st));
	return 0;
}
