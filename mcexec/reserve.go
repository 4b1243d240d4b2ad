package mcexec

/*
#include <fcntl.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static int gomck_window_reserved;

// Runs when the dynamic loader initialises mcexec, before the Go runtime
// maps its heap. Bounds must match delegator/ikc's window.
__attribute__((constructor)) static void gomck_reserve_window(void) {
	uintptr_t lo = 0x10000, hi = 0xc000000000ULL;
	void *p = mmap((void *)lo, hi - lo, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	gomck_window_reserved = (p == (void *)lo);
}

// Grows the descriptor table past ReservedFD (1023: a table of 1024) while
// mcexec has one thread: once it has more, Linux waits for an RCU grace
// period to grow it, and mcexec's first descriptor above ReservedFD took
// 10-20 ms to get.
__attribute__((constructor)) static void gomck_grow_fd_table(void) {
	int fd = open("/", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && dup2(fd, 1023) == 1023)
		close(1023);
	if (fd >= 0)
		close(fd);
}

static int gomck_reserved(void) { return gomck_window_reserved; }

static void gomck_interrupted(int sig) { (void)sig; }

// The LWK interrupts a worker blocked in a call with this signal. Go's
// runtime installs its handlers with SA_RESTART, which would restart the
// call; this one lacks it, so the call returns EINTR.
static int gomck_catch_interrupts(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = gomck_interrupted;
	sa.sa_flags = SA_ONSTACK;
	return sigaction(sig, &sa, NULL);
}
*/
import "C"

import (
	"errors"

	"github.com/gomck/gomck/delegator/ikc"
)

// windowReserved reports whether the constructor got the whole window.
func windowReserved() error {
	if ikc.WindowStart != 0x10000 || ikc.WindowEnd != 0xc000000000 {
		return errors.New("mcexec: app window bounds differ between ikc and reserve.go")
	}
	if C.gomck_reserved() == 0 {
		return errors.New("mcexec: could not reserve the app address window (is mcexec built as a PIE?)")
	}
	return nil
}

// catchInterrupts installs the handler of ikc.InterruptSignal.
func catchInterrupts() {
	C.gomck_catch_interrupts(C.int(ikc.InterruptSignal))
}
