package kernel

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/kernel/kmsg"
	"github.com/gomck/gomck/kernel/stats"
)

// TestSendExit checks that the exit report keeps its profile, and that a
// profile too large for one message goes with the process's sum only.
func TestSendExit(t *testing.T) {
	calls := []stats.SyscallCount{{Nr: 39, Name: "getpid", Local: stats.Syscall{Calls: 1, Ns: 1}}}
	sum := stats.ThreadProfile{TID: 7, Syscalls: calls}
	huge := make([]stats.ThreadProfile, control.MaxMessage/8)
	for i := range huge {
		huge[i] = stats.ThreadProfile{TID: 7 + i, Syscalls: calls}
	}
	for _, c := range []struct {
		name        string
		threads     []stats.ThreadProfile
		wantThreads int
	}{
		{"small", huge[:2], 2},
		{"too large", huge, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			daemon, proxy := control.FromFD(fds[0]), control.FromFD(fds[1])
			defer daemon.Close()
			defer proxy.Close()
			k := &OS{Kmsg: kmsg.New()}
			prof := &stats.ProfileReport{PID: 7, Exe: "/bin/x", Threads: c.threads, Process: sum}
			if err := k.sendExit(daemon, control.Response{OK: true, PID: 7, ExitCode: 3}, prof); err != nil {
				t.Fatal(err)
			}
			var got control.Response
			if _, err := proxy.Recv(&got); err != nil {
				t.Fatal(err)
			}
			if got.ExitCode != 3 || got.Profile == nil || len(got.Profile.Threads) != c.wantThreads ||
				got.Profile.Process.Syscalls[0].Local.Calls != 1 {
				t.Errorf("exit %d, profile %+v; want exit 3 with %d threads and the sum", got.ExitCode, got.Profile, c.wantThreads)
			}
			if logged := strings.Contains(k.Kmsg.String(), "sum only"); logged != (c.wantThreads == 0) {
				t.Errorf("kmsg says the threads were dropped: %v, want %v", logged, c.wantThreads == 0)
			}
		})
	}
}
