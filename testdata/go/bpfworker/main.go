// Command bpfworker serves "offloaded calls" the way an mcexec worker
// does, for web/bpf's tests, without an LWK: each call is bracketed by
// (*proxy).execute and (*channel).Complete, which have the shapes of
// mcexec's (*Proxy).execute and ikc's (*Channel).Complete.
//
// bpfworker N prints "ready", waits for a line on stdin, then makes N
// bracketed 1-byte writes to /dev/null. Around them it makes the calls a
// worker makes for itself: a futex wake on the "doorbell" before each, a
// "refused" call (execute returns without a system call, as mcexec's
// guard does: a write to a descriptor it keeps for itself) followed by an
// unbracketed write after each. It prints
// "done" and exits at EOF on stdin.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

type proxy struct{}

// refusedFD is a descriptor execute refuses without a system call, as
// mcexec refuses the app its own descriptors.
const refusedFD = 1 << 20

//go:noinline
func (p *proxy) execute(nr uint64, a [6]uint64) int64 {
	if a[0] == refusedFD {
		return -int64(unix.EBADF)
	}
	r, _, e := unix.Syscall6(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
	if e != 0 {
		return -int64(e)
	}
	return int64(r)
}

type channel struct{ doorbell uint32 }

const futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG

//go:noinline
func (c *channel) Complete(i int, ret int64) {
	c.wake()
}

func (c *channel) wake() {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&c.doorbell)), futexWakePrivate, 1, 0, 0, 0)
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
	var p proxy
	var ch channel
	b := []byte{0}
	write := [6]uint64{uint64(null), uint64(uintptr(unsafe.Pointer(&b[0]))), 1}
	for i := 0; i < n; i++ {
		ch.wake()
		if r := p.execute(unix.SYS_WRITE, write); r != 1 {
			fmt.Fprintln(os.Stderr, "write:", unix.Errno(-r))
			os.Exit(1)
		}
		ch.Complete(0, 1)
		p.execute(unix.SYS_WRITE, [6]uint64{refusedFD})
		ch.Complete(0, -int64(unix.EBADF))
		unix.Write(null, b) // the worker's own: after Complete, not timed
	}
	fmt.Println("done")
	in.ReadString('\n')
}
