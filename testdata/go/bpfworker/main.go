// Command bpfworker makes the system calls an mcexec worker thread makes
// when it serves offloaded calls, for web/bpf's tests, without an LWK.
//
// bpfworker N prints "ready", waits for a line on stdin, then serves N
// "requests", each a 1-byte write to /dev/null, the way mcexec/proxy.go's
// serveCalls does: a wait on the doorbell (a shared futex), the mirror's
// mmap, the call, and the answer posted with a shared FUTEX_WAKE (ikc's
// Complete). After each it also serves a request mcexec answers itself
// (no call before the wake) and one it does its own work for (several
// fcntl calls, as for a close-on-exec). It prints "done" and exits at EOF
// on stdin.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ikc's futex operations: shared, not private (both processes map the
// words).
const (
	futexWait = 0
	futexWake = 1
)

func futex(word *uint32, op, val uintptr) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), op, val, 0, 0, 0)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bpfworker N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	null, err := unix.Open("/dev/null", unix.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(1)
	}
	runtime.LockOSThread()
	var doorbell, state uint32
	// As if a previous request were answered. The read of stdin may or
	// may not have been watched (the test may start watching before it
	// began): two calls more make the window hold several calls either
	// way, which this answer files as none.
	for range 2 {
		unix.FcntlInt(0, unix.F_GETFD, 0)
	}
	futex(&state, futexWake, 1)
	b := []byte{0}
	for range n {
		futex(&doorbell, futexWait, 1) // the word is 0: returns at once
		m, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mirror:", err)
			os.Exit(1)
		}
		unix.Munmap(m)
		if _, err := unix.Write(null, b); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
		futex(&state, futexWake, 1)

		futex(&state, futexWake, 1) // answered without a call

		for fd := range 3 {
			unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		}
		futex(&state, futexWake, 1)
	}
	fmt.Println("done")
	in.ReadString('\n')
}
