/* Exercises job control between a parent and its children: SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU stop a child (waitpid WUNTRACED reports it once) and SIGCONT continues it (WCONTINUED), a stopped child writes nothing, SIGKILL ends a stopped child, a caught SIGTSTP runs its handler instead and a blocked one is taken by sigwait, SIGCONT continues even when blocked or ignored and a caught one runs its handler after the continue, SIGCONT drops a pending stop, a child stops itself while its parent waits, a child stopped before it ever ran, SIGCHLD with CLD_STOPPED and CLD_CONTINUED (none with SA_NOCLDSTOP), and waitid with WSTOPPED and WNOWAIT. Children tick (write a '.' every 2 ms) into a pipe, in process groups of their own: those are not orphaned, so SIGTSTP stops them wherever the test runs. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int outfd; /* the child's end of its output pipe */
static volatile sig_atomic_t chld_code, chld_status, chld_pid, chld_runs;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void tick(void)
{
	for (;;) {
		write(outfd, ".", 1);
		sleep_ms(2);
	}
}

static void on_tstp(int sig)
{
	(void)sig;
	write(outfd, "T", 1);
}

static void on_cont(int sig)
{
	(void)sig;
	write(outfd, "C", 1);
}

static void catch_tstp(void) { signal(SIGTSTP, on_tstp); }
static void catch_cont(void) { signal(SIGCONT, on_cont); }
static void ignore_cont(void) { signal(SIGCONT, SIG_IGN); }

static void mask(int how, int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(how, &set, NULL);
}

static void block_cont(void) { mask(SIG_BLOCK, SIGCONT); }

static void on_usr1(int sig) { (void)sig; }

static void block_tstp(void)
{
	mask(SIG_BLOCK, SIGTSTP);
	mask(SIG_BLOCK, SIGUSR1);
	signal(SIGUSR1, on_usr1);
}

/* await waits for the blocked signal sig with sigwait. */
static void await(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigwait(&set, &sig);
}

/* unblock_on_usr1 waits for the parent's SIGUSR1, then unblocks SIGTSTP
 * and says so ('u'). */
static void unblock_on_usr1(void)
{
	await(SIGUSR1);
	mask(SIG_UNBLOCK, SIGTSTP);
	write(outfd, "u", 1);
}

/* wait_tstp takes SIGTSTP with sigwait and says so ('W'). */
static void wait_tstp(void)
{
	await(SIGTSTP);
	write(outfd, "W", 1);
}

/* fork_ticker forks a child in a process group of its own that runs
 * setup (if any), says it is ready ('r'), runs then (if any) and ticks;
 * the read end of its output is in *rfd. */
static pid_t fork_ticker(void (*setup)(void), void (*then)(void), int *rfd)
{
	int fds[2];
	pipe(fds);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		outfd = fds[1];
		setpgid(0, 0);
		if (setup)
			setup();
		write(outfd, "r", 1);
		if (then)
			then();
		tick();
	}
	close(fds[1]);
	*rfd = fds[0];
	return pid;
}

/* spawn is fork_ticker returning once the child is ready. */
static pid_t spawn(void (*setup)(void), void (*then)(void), int *rfd)
{
	pid_t pid = fork_ticker(setup, then, rfd);
	char c;
	read(*rfd, &c, 1);
	return pid;
}

/* next reads one byte of the child's output within 2 s; 0 if none came. */
static char next(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c = 0;
	if (poll(&p, 1, 2000) == 1 && read(fd, &c, 1) == 1)
		return c;
	return 0;
}

/* drain reads what the child has written so far and returns its length. */
static int drain(int fd)
{
	char buf[4096];
	int n = 0;
	struct pollfd p = {fd, POLLIN, 0};
	while (poll(&p, 1, 0) == 1) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

/* quiet reports whether a stopped child writes nothing, once what it
 * wrote before the stop is drained. */
static const char *quiet(int fd)
{
	sleep_ms(30);
	drain(fd);
	sleep_ms(150);
	return drain(fd) == 0 ? "yes" : "NO";
}

/* runs reports whether the child writes. */
static const char *runs(int fd)
{
	drain(fd);
	return next(fd) ? "yes" : "NO";
}

/* seen reports whether the child writes c within its next 2000 bytes. */
static const char *seen(int fd, char c)
{
	for (int i = 0; i < 2000; i++) {
		char x = next(fd);
		if (x == c)
			return "yes";
		if (x == 0)
			break;
	}
	return "NO";
}

/* waitfor waits for pid with options and describes what it reported. */
static const char *waitfor(pid_t pid, int options)
{
	static char buf[64];
	int st = 0;
	pid_t r = waitpid(pid, &st, options);
	if (r == 0)
		snprintf(buf, sizeof buf, "nothing");
	else if (r != pid)
		snprintf(buf, sizeof buf, "waitpid gave %d: %s", (int)r, strerror(errno));
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof buf, "stopped by %d", WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		snprintf(buf, sizeof buf, "continued");
	else if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, sizeof buf, "status %#x", st);
	return buf;
}

/* finish kills the child and reaps it. */
static void finish(pid_t pid, int fd)
{
	kill(pid, SIGKILL);
	printf("  SIGKILL: %s\n", waitfor(pid, 0));
	close(fd);
}

/* stop_and_continue stops the ticking child with sig and continues it. */
static void stop_and_continue(pid_t pid, int fd, int sig)
{
	kill(pid, sig);
	printf("signal %d: %s", sig, waitfor(pid, WUNTRACED));
	printf(", quiet %s", quiet(fd));
	printf(", again: %s", waitfor(pid, WUNTRACED | WNOHANG));
	kill(pid, SIGCONT);
	printf("; SIGCONT: %s", waitfor(pid, WCONTINUED));
	printf(", again: %s, runs %s\n", waitfor(pid, WCONTINUED | WNOHANG), runs(fd));
}

static void stops(void)
{
	int fd;
	pid_t pid = spawn(NULL, NULL, &fd);
	printf("child runs: %s\n", runs(fd));
	int sigs[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
	for (int i = 0; i < 4; i++)
		stop_and_continue(pid, fd, sigs[i]);
	kill(pid, SIGSTOP);
	printf("stopped: %s; WNOHANG without WUNTRACED: ", waitfor(pid, WUNTRACED));
	printf("%s\n", waitfor(pid, WNOHANG));
	finish(pid, fd);
}

/* tstp_taken: a child that catches SIGTSTP, or blocks it and takes it
 * with sigwait, says so with mark and does not stop. */
static void tstp_taken(const char *how, void (*setup)(void), void (*then)(void), char mark)
{
	int fd;
	pid_t pid = spawn(setup, then, &fd);
	kill(pid, SIGTSTP);
	printf("SIGTSTP %s: '%c' %s", how, mark, seen(fd, mark));
	printf(", stopped: %s, runs %s\n", waitfor(pid, WUNTRACED | WNOHANG), runs(fd));
	finish(pid, fd);
}

/* continues checks that SIGCONT continues a child whatever it does with
 * SIGCONT; a caught one runs its handler first. */
static void continues(const char *what, void (*setup)(void))
{
	int fd;
	pid_t pid = spawn(setup, NULL, &fd);
	kill(pid, SIGSTOP);
	printf("SIGCONT %s: %s", what, waitfor(pid, WUNTRACED));
	printf(", quiet %s", quiet(fd));
	kill(pid, SIGCONT);
	char first = next(fd);
	printf(", %s, first output '%c', runs %s\n", waitfor(pid, WCONTINUED), first ? first : '-', runs(fd));
	finish(pid, fd);
}

/* pending_stop sends SIGTSTP while the child blocks it: the child stops
 * when it unblocks SIGTSTP, unless (dropped) a SIGCONT dropped it. */
static void pending_stop(int dropped)
{
	int fd;
	pid_t pid = spawn(block_tstp, unblock_on_usr1, &fd);
	kill(pid, SIGTSTP);
	if (dropped) {
		kill(pid, SIGCONT);
		kill(pid, SIGUSR1);
		printf("pending SIGTSTP then SIGCONT: unblocked %s, ", seen(fd, 'u'));
		sleep_ms(50);
		printf("%s\n", waitfor(pid, WUNTRACED | WNOHANG));
	} else {
		kill(pid, SIGUSR1);
		printf("pending SIGTSTP: unblocked, %s\n", waitfor(pid, WUNTRACED));
	}
	finish(pid, fd);
}

/* self_stop: the child stops itself while its parent already waits. */
static void self_stop(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		raise(SIGSTOP);
		_exit(7);
	}
	printf("child raise(SIGSTOP): %s", waitfor(pid, WUNTRACED));
	kill(pid, SIGCONT);
	printf(", after SIGCONT: %s\n", waitfor(pid, 0));
}

/* early_stop stops a child right after fork, before it may have run. */
static void early_stop(void)
{
	int fd;
	pid_t pid = fork_ticker(NULL, NULL, &fd);
	kill(pid, SIGSTOP);
	printf("stopped at once: %s", waitfor(pid, WUNTRACED));
	kill(pid, SIGCONT);
	printf(", continued: %s, runs %s\n", waitfor(pid, WCONTINUED), runs(fd));
	finish(pid, fd);
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_pid = si->si_pid;
	chld_runs++;
}

static const char *code_name(int code)
{
	switch (code) {
	case CLD_EXITED:
		return "CLD_EXITED";
	case CLD_KILLED:
		return "CLD_KILLED";
	case CLD_STOPPED:
		return "CLD_STOPPED";
	case CLD_CONTINUED:
		return "CLD_CONTINUED";
	}
	return "OTHER";
}

/* await_chld lets the blocked SIGCHLD in and describes its handler run. */
static const char *await_chld(pid_t pid)
{
	static char buf[96];
	sigset_t empty;
	sigemptyset(&empty);
	while (!chld_runs)
		sigsuspend(&empty);
	snprintf(buf, sizeof buf, "SIGCHLD %s status %d pid %s", code_name(chld_code), chld_status,
		 chld_pid == pid ? "ok" : "WRONG");
	chld_runs = 0;
	return buf;
}

/* sigchld_pending reports whether a blocked SIGCHLD waits, after a while. */
static const char *sigchld_pending(void)
{
	sigset_t set;
	sleep_ms(100);
	sigpending(&set);
	return sigismember(&set, SIGCHLD) ? "SIGCHLD pending" : "no SIGCHLD";
}

static void sigchld(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	int fd;
	pid_t pid = spawn(NULL, NULL, &fd);
	const char *label = flags ? "SA_NOCLDSTOP" : "SA_SIGINFO";
	kill(pid, SIGSTOP);
	printf("%s: stop %s, %s\n", label, waitfor(pid, WUNTRACED), flags ? sigchld_pending() : await_chld(pid));
	kill(pid, SIGCONT);
	printf("%s: SIGCONT %s, %s\n", label, waitfor(pid, WCONTINUED), flags ? sigchld_pending() : await_chld(pid));
	kill(pid, SIGKILL);
	printf("%s: SIGKILL %s, %s\n", label, waitfor(pid, 0), await_chld(pid));
	close(fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGCHLD, SIG_DFL);
}

static void waitid_stopped(void)
{
	int fd;
	pid_t pid = spawn(NULL, NULL, &fd);
	kill(pid, SIGSTOP);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT);
	printf("waitid WSTOPPED|WNOWAIT: %d %s status %d pid %s", r, code_name(si.si_code), si.si_status,
	       si.si_pid == pid ? "ok" : "WRONG");
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WSTOPPED);
	printf("; WSTOPPED: %d %s status %d", r, code_name(si.si_code), si.si_status);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WSTOPPED | WEXITED | WNOHANG);
	printf("; again: %d pid %d\n", r, (int)si.si_pid);
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WCONTINUED);
	printf("waitid WCONTINUED: %d %s status %d", r, code_name(si.si_code), si.si_status);
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WEXITED);
	printf("; WEXITED after SIGKILL: %d %s status %d\n", r, code_name(si.si_code), si.si_status);
	close(fd);
}

int main(void)
{
	stops();
	tstp_taken("caught", catch_tstp, NULL, 'T');
	tstp_taken("taken by sigwait", block_tstp, wait_tstp, 'W');
	continues("caught", catch_cont);
	continues("blocked", block_cont);
	continues("ignored", ignore_cont);
	pending_stop(0);
	pending_stop(1);
	self_stop();
	early_stop();
	sigchld(0);
	sigchld(SA_NOCLDSTOP);
	waitid_stopped();
	return 0;
}
