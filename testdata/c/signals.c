/* Exercises signal handlers: SA_SIGINFO fields, sigaltstack, masks and pending, a SIGSEGV handler that longjmps, SA_RESETHAND, FPU state across a handler. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int got, code, onalt;
static volatile void *addr;
static char altstack[64 * 1024];
static sigjmp_buf jb;

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	code = si->si_code;
	char here;
	onalt = (uintptr_t)&here >= (uintptr_t)altstack && (uintptr_t)&here < (uintptr_t)altstack + sizeof altstack;
	volatile double x = 1.0;
	for (int i = 0; i < 10; i++)
		x = x * 3.5 + 1; /* clobbers vector registers */
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	code = si->si_code;
	addr = si->si_addr;
	siglongjmp(jb, 1);
}

static void plain_handler(int sig) { got = sig; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	volatile double keep = 2.25;
	raise(SIGUSR1);
	printf("raise: sig %d code %d onalt %d keep %.2f\n", got, code, onalt, keep);

	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	sigaltstack(&ss, NULL);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	got = 0;
	kill(getpid(), SIGUSR1);
	printf("kill on altstack: sig %d code %d onalt %d\n", got, code, onalt);

	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	signal(SIGUSR2, plain_handler);
	sigprocmask(SIG_BLOCK, &set, NULL);
	got = 0;
	raise(SIGUSR2);
	sigpending(&pend);
	printf("blocked: got %d pending %d\n", got, sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("unblocked: got %d\n", got);

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 0; i < 3; i++) {
		got = 0;
		if (sigsetjmp(jb, 1) == 0)
			*(volatile int *)(uintptr_t)(16 * i) = 1;
		printf("segv %d: sig %d code %d addr %p\n", i, got, code, (void *)addr);
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = plain_handler;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGWINCH, &sa, NULL);
	raise(SIGWINCH);
	sigaction(SIGWINCH, NULL, &sa);
	printf("resethand: got %d now %s\n", got, sa.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");
	signal(SIGTERM, SIG_IGN);
	raise(SIGTERM);
	printf("ignored SIGTERM, still here\n");
	return 0;
}
