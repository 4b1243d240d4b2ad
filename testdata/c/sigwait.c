/* Waits in pause() for a signal from outside (SIGINT, SIGTERM) and reports it from its handler: forwarded signals must reach handlers. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void handler(int sig) { got = sig; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!got)
		pause();
	printf("caught %d\n", got);
	return 0;
}
