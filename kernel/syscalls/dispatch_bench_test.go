package syscalls

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/task"
)

// BenchmarkDispatchGetpid is the kernel's share of a local call, counted
// and not (ihkosctl N counting): what counting costs a call, without the
// stub's round trip that dominates the getpid loop figure.
func BenchmarkDispatchGetpid(b *testing.B) {
	sched.Calibrate(10 * time.Millisecond) // as Boot does
	for _, uncounted := range []bool{true, false} {
		name := "counted"
		if uncounted {
			name = "uncounted"
		}
		b.Run(name, func(b *testing.B) {
			env := &Env{}
			env.Uncounted.Store(uncounted)
			t := &task.Thread{Proc: &task.Process{PID: 7}}
			for range b.N {
				t.Regs.Orig_rax = unix.SYS_GETPID
				Dispatch(t, env)
			}
		})
	}
}
