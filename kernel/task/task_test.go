package task

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestWaitStatus checks the wait4 status words and SIGCHLD siginfos of
// each kind of child change against their Linux encodings.
func TestWaitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     WaitStatus
		status int
		code   int32
		value  uint64
	}{
		{"exit 3", WaitStatus{Code: 3}, 0x300, CldExited, 3},
		{"killed", WaitStatus{Signal: int(unix.SIGKILL)}, 9, CldKilled, 9},
		{"dumped", WaitStatus{Signal: int(unix.SIGSEGV), Core: true}, 0x8b, CldDumped, 11},
		{"stopped", WaitStatus{Stopped: int(unix.SIGTSTP)}, 0x147f, CldStopped, 20},
		{"continued", WaitStatus{Continued: true}, 0xffff, CldContinued, 18},
	} {
		ws := unix.WaitStatus(tc.st.Status())
		if got := tc.st.Status(); got != tc.status {
			t.Errorf("%s: status %#x, want %#x", tc.name, got, tc.status)
		}
		if tc.st.Stopped != 0 && (!ws.Stopped() || int(ws.StopSignal()) != tc.st.Stopped) || tc.st.Continued && !ws.Continued() {
			t.Errorf("%s: status %#x does not decode as a stop or continue", tc.name, tc.status)
		}
		if info := tc.st.SigInfo(); info.Code != tc.code || info.Value != tc.value {
			t.Errorf("%s: si_code %d si_status %d, want %d %d", tc.name, info.Code, info.Value, tc.code, tc.value)
		}
	}
}
