package bpf

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkGetpid is a native getpid loop without the programs, with them
// loaded but no proxy watched (the raw_syscalls tracepoints detached), and
// with a proxy watched: then sys_enter and sys_exit run on every call of
// every task (bench/RESULTS.md, bpf_attach_getpid).
func BenchmarkGetpid(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: loads eBPF programs")
	}
	loop := func(b *testing.B) {
		for b.Loop() {
			unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
		}
	}
	b.Run("detached", loop)
	c, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("idle", loop)
	worker, _, _ := startWorker(b, 0)
	if err := c.SetProxies(0, []int{worker.Process.Pid}); err != nil {
		b.Fatal(err)
	}
	b.Run("watching", loop)
}

// BenchmarkOffloadWorker is bpfworker's requests (a /dev/null write with
// the worker's futex and mmap calls around it, and two requests it serves
// itself) without the programs and with the worker watched.
func BenchmarkOffloadWorker(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: loads eBPF programs")
	}
	run := func(c *Collectors) func(b *testing.B) {
		return func(b *testing.B) {
			worker, stdin, out := startWorker(b, b.N)
			if c != nil {
				if err := c.SetProxies(0, []int{worker.Process.Pid}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			fmt.Fprintln(stdin)
			expectLine(b, out, "done")
		}
	}
	b.Run("plain", run(nil))
	c, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("watched", run(c))
}
