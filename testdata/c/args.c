/* Exercises the initial stack: argc/argv, environment and the auxiliary vector. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>

extern char **environ;

static int failed;

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("auxv bad: %s\n", what);
		failed = 1;
	}
}

int main(int argc, char **argv)
{
	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	/* Only our own variables: the rest of the environment differs between runs. */
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "GOMCK_T", 7) == 0)
			printf("env %s\n", *e);

	check(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ");
	check(getauxval(AT_RANDOM) != 0, "AT_RANDOM");
	check(getauxval(AT_PHDR) != 0, "AT_PHDR");
	check(getauxval(AT_ENTRY) != 0, "AT_ENTRY");
	check(getauxval(AT_UID) == getuid(), "AT_UID");
	check(getauxval(AT_EUID) == geteuid(), "AT_EUID");
	check(getauxval(AT_GID) == getgid(), "AT_GID");
	check(getauxval(AT_EGID) == getegid(), "AT_EGID");
	check(getauxval(AT_HWCAP) != 0, "AT_HWCAP");
	check(getauxval(AT_SYSINFO_EHDR) != 0, "AT_SYSINFO_EHDR");

	/* The path itself depends on how the program was started, so only its presence is shown. */
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	if (execfn && execfn[0])
		printf("execfn ok\n");
	else
		check(0, "AT_EXECFN");

	if (!failed)
		printf("auxv ok\n");
	return failed;
}
