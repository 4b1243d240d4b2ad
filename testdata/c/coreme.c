// cflags: -g -fno-optimize-sibling-calls -pthread
/* The program the core file tests dump, run the same way natively and on
 * the LWK so that gdb can compare the two cores. It keeps known values in
 * globals (an int, a string filled in at run time, a pointer to a malloc'd
 * record), maps the file FILE privately and reads it, and starts two
 * threads that stay blocked: one in pthread_cond_wait (a local futex on the
 * LWK), one in read() on a pipe nobody writes (an offloaded call). Then it
 * prints "ready PID" (getpid(), the LWK pid under mcexec) and, by mode:
 *
 *   coreme crash [FILE]  main writes through NULL in c(), called by b(),
 *                        called by a() (SIGSEGV at address 0)
 *   coreme abort [FILE]  main calls abort() (SIGABRT)
 *   coreme wait [FILE]   main reads stdin until EOF and exits 0, for a core
 *                        of a running process
 *   coreme spin [FILE]   as crash, with a third thread spinning in spinner()
 *                        on CPU 1 (main goes to CPU 0): a thread that never
 *                        traps, running on another CPU at the fault
 *
 * With -b N first, main fills N MiB of heap with non-zero bytes before it
 * starts: a core too big for a small filesystem.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct record {
	int id;
	double ratio;
	char name[16];
};

/* What the tests print with gdb: not static, so that their names are the
 * ones in the source, and set at run time, so that they live in written
 * (dumped) pages rather than only in the executable. */
int coreme_int;
char coreme_str[32];
struct record *coreme_rec;
char *coreme_map;
size_t coreme_map_len;

static int pipefd[2];
static pthread_barrier_t started;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	pthread_barrier_wait(&started);
	for (;;)
		pthread_cond_wait(&never, &mu);
	return NULL;
}

static void *reader(void *arg)
{
	char ch;
	(void)arg;
	pthread_barrier_wait(&started);
	while (read(pipefd[0], &ch, 1) == 1)
		;
	return NULL;
}

volatile unsigned long coreme_spins;

static void on_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) {
		perror("sched_setaffinity");
		exit(1);
	}
}

__attribute__((noinline)) static void *spinner(void *arg)
{
	(void)arg;
	on_cpu(1);
	for (;;)
		coreme_spins++;
	return NULL;
}

/* The faulting call chain: noinline (and no sibling calls, by the cflags)
 * so that each has its own frame in the backtrace. The pointer is volatile
 * so that gcc cannot see it is NULL and emit a trap (SIGILL) instead, and
 * so is what it points to, or gcc drops the store. */
__attribute__((noinline)) int c(int v)
{
	volatile int *volatile p = NULL;
	*p = v;
	return v + 1;
}

__attribute__((noinline)) int b(int v) { return c(v * 2) + 1; }

__attribute__((noinline)) int a(int v) { return b(v + 1) + 1; }

static void start(void *(*fn)(void *))
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, NULL);
	if (err != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		exit(1);
	}
}

static void mapfile(const char *path)
{
	struct stat st;
	volatile char sum = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		exit(1);
	}
	coreme_map_len = st.st_size;
	coreme_map = mmap(NULL, coreme_map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (coreme_map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	close(fd);
	/* Populated, as a program that used the file would have it. */
	for (size_t i = 0; i < coreme_map_len; i += 4096)
		sum += coreme_map[i];
}

int main(int argc, char **argv)
{
	const char *mode;
	char buf[256];
	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		size_t n = strtoul(argv[2], NULL, 10) << 20;
		char *big = malloc(n);
		if (big == NULL) {
			fprintf(stderr, "malloc %zu failed\n", n);
			return 1;
		}
		memset(big, 0x5a, n);
		argc -= 2;
		argv += 2;
	}
	mode = argc > 1 ? argv[1] : "crash";
	if (argc > 2)
		mapfile(argv[2]);
	coreme_int = 4242;
	strcpy(coreme_str, "gomck core string");
	coreme_rec = malloc(sizeof *coreme_rec);
	*coreme_rec = (struct record){.id = 7, .ratio = 2.5, .name = "heap record"};
	if (pipe(pipefd) != 0) {
		perror("pipe");
		return 1;
	}
	pthread_barrier_init(&started, NULL, 3);
	start(waiter);
	start(reader);
	pthread_barrier_wait(&started);
	/* The barrier lets the threads go on to their calls; give them the
	 * time to get there, so that the dump finds them blocked in them. */
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (strcmp(mode, "wait") == 0) {
		while (read(0, buf, sizeof buf) > 0)
			;
		return 0;
	}
	if (strcmp(mode, "abort") == 0)
		abort();
	if (strcmp(mode, "spin") == 0) {
		on_cpu(0);
		start(spinner);
		while (coreme_spins < 1000000)
			;
	}
	return a(coreme_int);
}
