package bpf

import (
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
	if err := c.setProxies(0, []int{worker.Process.Pid}, workerBrackets); err != nil {
		b.Fatal(err)
	}
	b.Run("watching", loop)
}
