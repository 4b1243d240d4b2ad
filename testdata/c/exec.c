/* Exercises execve: failures return to the caller (missing file, no permission, not an ELF), then a successful exec replaces the image, keeping fds unless close-on-exec. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static void try(const char *label, const char *path)
{
	char *argv[] = {(char *)path, NULL};
	execve(path, argv, environ);
	printf("execve %s: %s\n", label, strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc > 1) { /* the exec'ed image */
		printf("new image: argc %d argv1 %s fd3 %s fd4 %s\n", argc, argv[1],
		       fcntl(3, F_GETFD) >= 0 ? "open" : "closed", fcntl(4, F_GETFD) >= 0 ? "open" : "closed");
		return 7;
	}
	char tmpl[] = "/tmp/gomck-exec-XXXXXX";
	int t = mkstemp(tmpl);
	write(t, "#!x\n", 4);
	close(t);
	try("missing file", "/nonexistent/prog");
	chmod(tmpl, 0644);
	try("not executable", tmpl);
	chmod(tmpl, 0755);
	try("script with a missing interpreter", tmpl);
	unlink(tmpl);
	int keep = open("/dev/null", O_RDONLY);       /* fd 3 survives */
	int gone = open("/dev/null", O_RDONLY | O_CLOEXEC); /* fd 4 closes */
	printf("fds %d %d\n", keep, gone);
	fflush(stdout);
	char *nargv[] = {argv[0], "second", NULL};
	execve(argv[0], nargv, environ);
	printf("exec failed: %s\n", strerror(errno));
	return 1;
}
