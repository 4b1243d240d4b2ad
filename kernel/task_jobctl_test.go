package kernel

import (
	"os/exec"
	"syscall"
	"testing"
)

// TestOrphanedGroup: a group whose leader's parent (this test) is in
// another group of the same session is not orphaned; a new session's group
// is, since its only member's parent is in another session.
func TestOrphanedGroup(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attr     syscall.SysProcAttr
		orphaned bool
	}{
		{"own group", syscall.SysProcAttr{Setpgid: true}, false},
		{"own session", syscall.SysProcAttr{Setsid: true}, true},
	} {
		cmd := exec.Command("sleep", "10")
		cmd.SysProcAttr = &tc.attr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		got := orphanedGroup(cmd.Process.Pid, cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		if got != tc.orphaned {
			t.Errorf("%s: orphaned %v, want %v", tc.name, got, tc.orphaned)
		}
	}
}
