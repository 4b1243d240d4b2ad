/* A target for mcinspect --read: it writes known bytes into a global, into argv[1] bytes of heap (default 20000, from brk) and into the first page of a 1 MiB MAP_NORESERVE mapping, whose other pages it never touches (demand paging leaves them unpopulated). It prints "ready GLOBAL HEAP HEAPLEN MAPPING" (addresses in hex) and exits at EOF on stdin. The global reads "gomck global, pid PID", heap byte i is (i*31+7)%256, the mapping starts with "gomck demand page". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char global[64];

int main(int argc, char **argv)
{
	size_t heaplen = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	unsigned char *heap = malloc(heaplen);
	char *mapping = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char buf[256];
	if (heap == NULL || mapping == MAP_FAILED) {
		perror("patterns: allocate");
		return 1;
	}
	snprintf(global, sizeof global, "gomck global, pid %d", (int)getpid());
	for (size_t i = 0; i < heaplen; i++)
		heap[i] = (unsigned char)(i * 31 + 7);
	strcpy(mapping, "gomck demand page");
	printf("ready %lx %lx %zu %lx\n", (unsigned long)global, (unsigned long)heap, heaplen, (unsigned long)mapping);
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}
