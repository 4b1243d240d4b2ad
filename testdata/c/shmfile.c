// shmfile DIR: shared file mappings (MAP_SHARED of a file in DIR, of
// /dev/shm and of a memfd) as Linux gives them: coherent with read and
// write, with a forked child (a process-shared semaphore in the file),
// with offloaded calls whose buffers lie in the mapping; msync; EACCES
// for a writable shared mapping of a read-only descriptor; SIGBUS past
// the end after ftruncate shrinks the file; mremap growing the mapping;
// MADV_REMOVE.
//
// shmfile DIR linux: maps DIR/live, writes "lwk" there, prints "ready"
// and waits for a line on stdin, then prints what a Linux process wrote
// into the file meanwhile, as the mapping shows it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long page;
static sigjmp_buf back;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	bus_code = si->si_code;
	siglongjmp(back, 1);
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

static int open_sized(const char *path, off_t size) {
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0)
		die(path);
	return fd;
}

// shared maps two pages of fd, shared and writable.
static char *shared(int fd) {
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap shared");
	return m;
}

// coherent: the mapping and read/write on the descriptor see one file.
static void coherent(const char *what, int fd) {
	char *m = shared(fd);
	char buf[16] = {0};
	strcpy(m, "via-map");
	pread(fd, buf, 7, 0);
	printf("%s: pread sees %s\n", what, buf);
	pwrite(fd, "via-fd", 6, page + 10);
	printf("%s: map sees %.6s\n", what, m + page + 10);
	// Offloaded calls with buffers in the mapping: Linux executes them.
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	write(p[1], m, 7);
	read(p[0], m + 100, 7);
	printf("%s: read into the map %.7s\n", what, m + 100);
	close(p[0]), close(p[1]);
	printf("%s: msync %d\n", what, msync(m, 2 * page, MS_SYNC));

	// A forked child writes and posts a semaphore that lives in the file.
	sem_t *sem = (sem_t *)(m + 512);
	sem_init(sem, 1, 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(20000); // the parent blocks on the semaphore first
		strcpy(m + 1024, "from-child");
		sem_post(sem);
		_exit(0);
	}
	sem_wait(sem);
	printf("%s: child wrote %s\n", what, m + 1024);
	waitpid(pid, NULL, 0);
	pread(fd, buf, 10, 1024);
	printf("%s: the file holds %.10s\n", what, buf);
	// MADV_REMOVE punches the page out of the file.
	int r = madvise(m, page, MADV_REMOVE);
	pread(fd, buf, 1, 1024);
	printf("%s: MADV_REMOVE %d, the file holds %d, the map %d\n", what, r, buf[0], m[1024]);
	munmap(m, 2 * page);
}

static void access_rules(const char *path) {
	int ro = open(path, O_RDONLY);
	void *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	printf("rw map of O_RDONLY: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
	printf("ro map of O_RDONLY: %s, reads %.7s\n", m == MAP_FAILED ? strerror(errno) : "mapped", (char *)m);
	printf("mprotect rw: %s\n", mprotect(m, page, PROT_READ | PROT_WRITE) ? strerror(errno) : "ok");
	munmap(m, page);
	close(ro);
	int wo = open(path, O_WRONLY);
	m = mmap(NULL, page, PROT_WRITE, MAP_SHARED, wo, 0);
	printf("map of O_WRONLY: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
	close(wo);
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, 12345, 0);
	printf("map of a closed fd: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
	int rw = open(path, O_RDWR);
	m = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB, rw, 0);
	printf("MAP_HUGETLB of a file: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
	close(rw);
}

static void truncated(int fd) {
	char *m = shared(fd);
	m[page] = 'x';
	ftruncate(fd, page);
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(back, 1) == 0) {
		volatile char c = m[page + 5];
		(void)c;
		printf("no SIGBUS past the end\n");
	} else {
		printf("SIGBUS past the end, code %d\n", bus_code);
	}
	m[0] = 'y'; // the first page is still the file's
	char c;
	pread(fd, &c, 1, 0);
	printf("after the truncation the file holds %c\n", c);
	// Growing the file and the mapping.
	ftruncate(fd, 4 * page);
	char *g = mremap(m, 2 * page, 4 * page, MREMAP_MAYMOVE);
	if (g == MAP_FAILED) {
		printf("mremap: %s\n", strerror(errno));
	} else {
		g[3 * page] = 'z';
		pread(fd, &c, 1, 3 * page);
		printf("mremap grown: the file holds %c at page 3, the map %c at 0\n", c, g[0]);
		munmap(g, 4 * page);
	}
}

// maps_line prints the permissions, offset and name /proc/self/maps
// gives the mapping at m.
static void maps_line(void *m) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], want[32];
	snprintf(want, sizeof want, "%lx-", (unsigned long)m);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, want, strlen(want)) == 0) {
			char perms[8], off[16], name[256] = "";
			sscanf(line, "%*s %7s %15s %*s %*s %255[^\n]", perms, off, name);
			printf("maps: %s %s %s\n", perms, off, name);
		}
	}
	fclose(f);
}

static int live(const char *dir) {
	char path[4096];
	snprintf(path, sizeof path, "%s/live", dir);
	int fd = open_sized(path, page);
	char *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	strcpy(m, "lwk");
	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		die("stdin");
	printf("the map shows %.5s\n", m + 8);
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	page = sysconf(_SC_PAGESIZE);
	if (argc < 2) {
		fprintf(stderr, "usage: shmfile DIR [linux]\n");
		return 2;
	}
	if (argc > 2)
		return live(argv[1]);
	char path[4096];
	snprintf(path, sizeof path, "%s/file", argv[1]);
	int fd = open_sized(path, 2 * page);
	coherent("file", fd);
	access_rules(path);
	truncated(fd);
	close(fd);
	unlink(path);

	snprintf(path, sizeof path, "/dev/shm/gomck-shmfile-%d", getpid());
	fd = open_sized(path, 2 * page);
	unlink(path);
	coherent("shm", fd);
	close(fd);

	fd = memfd_create("shmfile", 0);
	if (fd < 0 || ftruncate(fd, 2 * page) < 0)
		die("memfd");
	coherent("memfd", fd);
	char *mf = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	maps_line(mf);
	close(fd);

	// /dev/zero's shared mappings are shared anonymous memory.
	int z = open("/dev/zero", O_RDWR);
	int *n = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	close(z);
	if (fork() == 0) {
		*n = 42;
		_exit(0);
	}
	wait(NULL);
	printf("/dev/zero shared with a child: %d\n", *n);
	return 0;
}
