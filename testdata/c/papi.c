// cflags: -lpapi
// link: dynamic
/* PAPI with the LWK's sde events: "papi N M EVENT..." adds the named
   events, makes N getpid (local on the LWK) and M writes to /dev/null
   (offloaded) between PAPI_start and PAPI_read, and prints each event's
   count; PAPI's errors are printed as PAPI names them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <papi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXEV 16

static int fail(const char *what, int err)
{
	printf("%s: %s (%d)\n", what, PAPI_strerror(err), err);
	return 0;
}

int main(int argc, char **argv)
{
	int set = PAPI_NULL, ret, i, n, m, nev = argc - 3;
	long long counts[MAXEV];
	char buf[1] = {0};
	int fd = open("/dev/null", O_WRONLY);

	if (argc < 4 || nev > MAXEV || fd < 0) {
		fprintf(stderr, "usage: papi N M EVENT...\n");
		return 2;
	}
	n = atoi(argv[1]);
	m = atoi(argv[2]);
	if ((ret = PAPI_library_init(PAPI_VER_CURRENT)) != PAPI_VER_CURRENT)
		return fail("PAPI_library_init", ret);
	if ((ret = PAPI_create_eventset(&set)) != PAPI_OK)
		return fail("PAPI_create_eventset", ret);
	for (i = 0; i < nev; i++)
		if ((ret = PAPI_add_named_event(set, argv[3 + i])) != PAPI_OK)
			return fail(argv[3 + i], ret);
	if ((ret = PAPI_start(set)) != PAPI_OK)
		return fail("PAPI_start", ret);
	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	for (i = 0; i < m; i++)
		if (write(fd, buf, 1) != 1)
			return 1;
	if ((ret = PAPI_read(set, counts)) != PAPI_OK)
		return fail("PAPI_read", ret);
	for (i = 0; i < nev; i++)
		printf("%s %lld\n", argv[3 + i], counts[i]);
	if ((ret = PAPI_stop(set, counts)) != PAPI_OK)
		return fail("PAPI_stop", ret);
	return 0;
}
