/* Credentials as Linux keeps them, run as root: the setuid family, setgroups, capget/capset (versions, pids, the rules), prctl's capability, no-new-privs, dumpable, pdeathsig and name options, and what a dropped identity may still open (the offloaded calls must be checked with the app's rights, not mcexec's). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *path;

/* say prints a call's result and errno, taken right after it. */
#define say(what, call)                                                          \
	do {                                                                     \
		errno = 0;                                                       \
		long r_ = (call);                                                \
		int e_ = errno;                                                  \
		printf("%s %ld%s%s\n", what, r_, r_ < 0 ? " " : "", r_ < 0 ? strerror(e_) : ""); \
	} while (0)

static void ids(const char *who)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("%s: uid %u %u %u gid %u %u %u groups %d\n", who, r, e, s, gr, ge, gs, getgroups(0, NULL));
}

static void caps(const char *who)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	long r = syscall(SYS_capget, &h, d);
	printf("%s: capget %ld eff %08x%08x prm %08x%08x inh %08x%08x\n", who, r, d[1].effective, d[0].effective,
	       d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
}

static int capset3(unsigned long long eff, unsigned long long prm, int pid)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
	struct __user_cap_data_struct d[2] = {{eff, prm, 0}, {eff >> 32, prm >> 32, 0}};
	return syscall(SYS_capset, &h, d) == 0 ? 0 : errno;
}

static void try_open(const char *who)
{
	int fd = open(path, O_RDONLY);
	printf("%s: open secret: %s\n", who, fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void child(void (*f)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		f();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

static void grandchild(void) { ids("grandchild"); }

static void drop_to_nobody(void)
{
	printf("setgroups %d\n", setgroups(0, NULL));
	printf("setresgid %d\n", setresgid(65534, 65534, 65534));
	printf("setresuid %d\n", setresuid(65534, 65534, 65534));
	ids("nobody");
	caps("nobody");
	try_open("nobody");
	say("setuid(0)", setuid(0));
	say("setgroups as nobody", setgroups(0, NULL));
}

static void drop_caps(void)
{
	/* stress-ng's way: capset on its own pid, as root */
	printf("capset(getpid) drop all %d\n", capset3(0, 0, getpid()));
	caps("capless root");
	try_open("capless root");
	printf("raise again: %s\n", strerror(capset3(1, 1, 0)));
	child(grandchild);
}

static void keep_caps(void)
{
	say("set keepcaps", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	say("get keepcaps", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	printf("setresuid %d\n", setresuid(1000, 1000, 1000));
	caps("kept");
	printf("setreuid(-1, 1000) %d\n", setreuid(-1, 1000));
	say("setreuid(-1, 0)", setreuid(-1, 0));
	say("setfsuid(2000) was", setfsuid(2000));
	say("setfsuid(-1) is", setfsuid(-1));
}

static void saved_uid(void)
{
	printf("setresuid(1000, 1000, 0) %d\n", setresuid(1000, 1000, 0));
	caps("saved 0");
	try_open("saved 0");
	printf("seteuid(0) %d\n", seteuid(0));
	caps("back to 0");
	try_open("back to 0");
	printf("setuid(1000) %d\n", setuid(1000));
	ids("setuid 1000");
	say("seteuid(0)", seteuid(0));
}

int main(int argc, char **argv)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s/secret", argc > 1 ? argv[1] : "/tmp");
	path = buf;
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || fchown(fd, 4242, 4242) != 0) {
		perror(path);
		return 1;
	}
	close(fd);
	chmod(argc > 1 ? argv[1] : "/tmp", 0755);

	ids("root");
	caps("root");
	try_open("root");

	struct __user_cap_header_struct h = {0x12345678, 0};
	errno = 0;
	long r = syscall(SYS_capget, &h, NULL);
	printf("capget bad version %ld %s version %#x\n", r, strerror(errno), h.version);
	h.version = _LINUX_CAPABILITY_VERSION_1;
	struct __user_cap_data_struct d1;
	say("capget v1", syscall(SYS_capget, &h, &d1));
	printf("v1 eff %08x\n", d1.effective);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	say("capget to a bad pointer", syscall(SYS_capget, &h, (void *)8));
	h.pid = 0;
	printf("capget probe %ld\n", syscall(SYS_capget, &h, NULL));
	struct __user_cap_data_struct d[2];
	h.pid = 999999;
	errno = 0;
	r = syscall(SYS_capget, &h, d);
	printf("capget pid 999999 %ld %s\n", r, strerror(errno));
	printf("capset other pid: %s\n", strerror(capset3(0, 0, 1)));

	printf("PR_CAPBSET_READ(SETUID) %d\n", prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0));
	say("PR_CAPBSET_READ(99)", prctl(PR_CAPBSET_READ, 99, 0, 0, 0));
	say("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	say("dumpable after 0", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	say("set dumpable 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	say("dumpable after 1", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	int sig = -1;
	prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
	prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	printf("pdeathsig %d\n", sig);
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	char name[32] = {0};
	prctl(PR_SET_NAME, "averyveryverylongname", 0, 0, 0);
	prctl(PR_GET_NAME, name, 0, 0, 0);
	printf("name %s\n", name);
	say("ambient raise (not inheritable)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETUID, 0, 0));
	say("ambient is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SETUID, 0, 0));
	say("ambient bad cap", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0));
	say("PR_SET_NO_NEW_PRIVS 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));

	child(drop_to_nobody);
	child(drop_caps);
	child(keep_caps);
	child(saved_uid);

	printf("no_new_privs %d", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	printf(" %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	ids("root after");
	try_open("root after");
	unlink(path);
	return 0;
}
