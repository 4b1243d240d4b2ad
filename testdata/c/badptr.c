/* Exercises system calls with garbage pointers: each must fail with EFAULT (or as Linux does) and the program must go on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	printf("%-28s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
	void *bad = (void *)0xdead0000UL;     /* unmapped, low */
	void *high = (void *)0x7ffff0001000UL; /* where a proxy's own memory could be */
	char buf[16];
	int p[2];
	pipe(p);
	write(p[1], "0123456789", 10);
	show("write(bad)", syscall(SYS_write, 1, bad, 10));
	show("write(high)", syscall(SYS_write, 1, high, 10));
	show("read(pipe, bad)", syscall(SYS_read, p[0], bad, 4));
	show("read(pipe, high)", syscall(SYS_read, p[0], high, 4));
	show("read(pipe, buf)", syscall(SYS_read, p[0], buf, 4));
	show("open(bad path)", syscall(SYS_open, bad, 0));
	show("uname(bad)", syscall(SYS_uname, bad));
	show("clock_gettime(bad)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad));
	show("getrlimit(bad)", syscall(SYS_getrlimit, 0, bad));
	show("rt_sigaction(bad)", syscall(SYS_rt_sigaction, 10, bad, NULL, 8));
	show("nanosleep(bad)", syscall(SYS_nanosleep, bad, NULL));
	show("munmap(unaligned)", syscall(SYS_munmap, 0x1001, 4096));
	show("mprotect(unmapped)", syscall(SYS_mprotect, 0xdead0000UL, 4096, 1));
	struct iovec iov[2] = {{bad, 4}, {buf, 4}};
	show("writev(bad iov)", syscall(SYS_writev, 1, iov, 2));
	show("writev(bad array)", syscall(SYS_writev, 1, bad, 2));
	show("still alive", 0);
	return 0;
}
