// cflags: -lpapi -pthread
// link: dynamic
/* PAPI with the LWK's sde events: "papi N M EVENT..." adds the named
   events, makes N getpid (local on the LWK) and M writes to /dev/null
   (offloaded) between PAPI_start and PAPI_read, and prints each event's
   count; PAPI's errors are printed as PAPI names them. "papi -j N M
   EVENT..." makes the calls in a thread that ends before PAPI_read (a
   process's events count its ended threads). "papi -t N EVENT"
   times N PAPI_reads of the event instead ("ns/op T", for lwkbench). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../bench/c/bench.h" /* now_ns, report */

#define MAXEV 16

static int n, m, fd;

/* calls makes the n local and m offloaded calls. */
static void *calls(void *arg)
{
	char buf[1] = {0};
	int i;

	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	for (i = 0; i < m; i++)
		if (write(fd, buf, 1) != 1)
			exit(1);
	return arg;
}

static int fail(const char *what, int err)
{
	printf("%s: %s (%d)\n", what, PAPI_strerror(err), err);
	return 0;
}

int main(int argc, char **argv)
{
	int set = PAPI_NULL, ret, i, timed, joined, nev;
	long long counts[MAXEV];
	pthread_t th;

	timed = argc > 1 && strcmp(argv[1], "-t") == 0;
	joined = argc > 1 && strcmp(argv[1], "-j") == 0;
	argv += joined;
	argc -= joined;
	nev = argc - 3;
	fd = open("/dev/null", O_WRONLY);

	if (argc < 4 || nev > MAXEV || fd < 0) {
		fprintf(stderr, "usage: papi [-j] N M EVENT... | papi -t N EVENT\n");
		return 2;
	}
	n = atoi(argv[timed ? 2 : 1]);
	m = timed ? 0 : atoi(argv[2]);
	if ((ret = PAPI_library_init(PAPI_VER_CURRENT)) != PAPI_VER_CURRENT)
		return fail("PAPI_library_init", ret);
	if ((ret = PAPI_create_eventset(&set)) != PAPI_OK)
		return fail("PAPI_create_eventset", ret);
	for (i = 0; i < nev; i++)
		if ((ret = PAPI_add_named_event(set, argv[3 + i])) != PAPI_OK)
			return fail(argv[3 + i], ret);
	if ((ret = PAPI_start(set)) != PAPI_OK)
		return fail("PAPI_start", ret);
	if (timed) {
		double t0 = now_ns();

		for (i = 0; i < n; i++)
			if ((ret = PAPI_read(set, counts)) != PAPI_OK)
				return fail("PAPI_read", ret);
		report("op", t0, now_ns(), n);
		return 0;
	}
	if (joined) {
		if (pthread_create(&th, NULL, calls, NULL) != 0 || pthread_join(th, NULL) != 0)
			return 1;
	} else {
		calls(NULL);
	}
	if ((ret = PAPI_read(set, counts)) != PAPI_OK)
		return fail("PAPI_read", ret);
	for (i = 0; i < nev; i++)
		printf("%s %lld\n", argv[3 + i], counts[i]);
	if ((ret = PAPI_stop(set, counts)) != PAPI_OK)
		return fail("PAPI_stop", ret);
	return 0;
}
