/*
 * Exercises the floor of the ptrace execution backend: a tracer on CPU emulates
 * N getpid calls of a PTRACE_SYSEMU tracee on the same CPU, prints ns/op.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define FAKE_PID 4242

static inline long raw0(long nr)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static inline long raw2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

/*
 * The tracee makes only raw syscalls after TRACEME: glibc's raise() would
 * leave a trailing rt_sigprocmask that SYSEMU would then swallow.
 */
static void tracee(long n)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(100);
	raw2(SYS_kill, raw0(SYS_getpid), SIGSTOP);
	long bad = 0;
	for (long i = 0; i < n; i++)
		if (raw0(SYS_getpid) != FAKE_PID)
			bad++;
	/* Under SYSEMU this never runs; the tracer reads the status from rdi and kills us. */
	raw2(SYS_exit_group, bad != 0, 0);
	for (;;)
		;
}

static void die(const char *what)
{
	fprintf(stderr, "ptrace_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ptrace_floor CPU N\n");
		return 2;
	}
	int cpu = atoi(argv[1]);
	long n = atol(argv[2]);
	if (cpu < 0 || cpu >= CPU_SETSIZE || n <= 0) {
		fprintf(stderr, "usage: ptrace_floor CPU N\n");
		return 2;
	}

	/* The child inherits the mask, so tracer and tracee share the CPU as in the LWK. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		die("sched_setaffinity");

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		tracee(n);

	int st;
	if (waitpid(child, &st, 0) != child)
		die("waitpid");
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
		fprintf(stderr, "ptrace_floor: tracee did not stop (status %#x)\n", st);
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, child, NULL,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0)
		die("PTRACE_SETOPTIONS");

	long count = 0, status = -1;
	double t0 = now_ns();
	/* Resuming with signal 0 discards the SIGSTOP. */
	if (ptrace(PTRACE_SYSEMU, child, NULL, NULL) < 0)
		die("PTRACE_SYSEMU");
	for (;;) {
		if (waitpid(child, &st, 0) != child)
			die("waitpid");
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			fprintf(stderr, "ptrace_floor: unexpected status %#x\n", st);
			kill(child, SIGKILL);
			return 1;
		}
		struct user_regs_struct regs;
		if (ptrace(PTRACE_GETREGS, child, NULL, &regs) < 0)
			die("PTRACE_GETREGS");
		if (regs.orig_rax == SYS_exit_group) {
			status = (long)regs.rdi;
			break;
		}
		if (regs.orig_rax == SYS_getpid) {
			regs.rax = FAKE_PID;
			count++;
		} else {
			regs.rax = -ENOSYS;
		}
		if (ptrace(PTRACE_SETREGS, child, NULL, &regs) < 0)
			die("PTRACE_SETREGS");
		if (ptrace(PTRACE_SYSEMU, child, NULL, NULL) < 0)
			die("PTRACE_SYSEMU");
	}
	double t1 = now_ns();

	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	if (count != n || status != 0) {
		fprintf(stderr, "ptrace_floor: %ld of %ld getpid calls emulated, tracee status %ld\n",
			count, n, status);
		return 1;
	}
	report("op", t0, t1, n);
	return 0;
}
