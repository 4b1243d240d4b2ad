// stopstate: what /proc says of a stopped child. The parent stops a child
// with SIGSTOP, waits for the stop (WUNTRACED) and prints the state field
// of the child's /proc/PID/stat, the State line of its /proc/PID/status
// and the state of each of its threads (task/TID/stat). Linux says T and
// "T (stopped)" for every thread, whatever the child was doing: sleeping
// in pause, blocked reading a pipe, or with a second thread.
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int readyfd, blockfd;

static void ready(void) { write(readyfd, "r", 1); }

static void idle(void) {
	for (;;)
		pause();
}

static void *sleeper(void *arg) {
	(void)arg;
	idle();
	return NULL;
}

static void in_pause(void) {
	ready();
	idle();
}

static void in_read(void) {
	char c;
	ready();
	for (;;)
		read(blockfd, &c, 1);
}

static void with_thread(void) {
	pthread_t th;
	pthread_create(&th, NULL, sleeper, NULL);
	in_pause();
}

static char buf[4096];

// slurp reads path into buf; its length, or -1.
static long slurp(const char *path) {
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

// statState is the state field of the stat file path, or '?'.
static char statState(const char *path) {
	char *after = slurp(path) > 0 ? strrchr(buf, ')') : NULL;
	return after && after[1] == ' ' ? after[2] : '?';
}

// report prints what /proc says of the stopped child pid.
static void report(pid_t pid) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	printf("stat %c", statState(path));
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *state = slurp(path) > 0 ? strstr(buf, "\nState:\t") : NULL;
	if (state) {
		state += strlen("\nState:\t");
		state[strcspn(state, "\n")] = 0;
	}
	printf(", status %s, threads", state ? state : "?");
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char tpath[300];
		snprintf(tpath, sizeof tpath, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
		printf(" %c", statState(tpath));
	}
	if (d)
		closedir(d);
	printf("\n");
}

static void stopped(const char *what, void (*child)(void)) {
	int readyp[2], blockp[2];
	if (pipe(readyp) != 0 || pipe(blockp) != 0) {
		perror("pipe");
		exit(1);
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		readyfd = readyp[1];
		blockfd = blockp[0];
		child();
	}
	char c;
	read(readyp[0], &c, 1);
	kill(pid, SIGSTOP);
	int st = 0;
	printf("%s: ", what);
	if (waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st))
		report(pid);
	else
		printf("not stopped (status %#x)\n", st);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(readyp[0]), close(readyp[1]), close(blockp[0]), close(blockp[1]);
}

int main(void) {
	stopped("pause", in_pause);
	stopped("pipe read", in_read);
	stopped("two threads", with_thread);
	return 0;
}
