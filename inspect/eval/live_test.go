package eval

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/internal/testprog"
)

// target is the running testdata/go/evaltarget program and its executable.
type target struct {
	exe string
	cmd *exec.Cmd
}

// startTarget runs the target program until it has built its state; the
// test's cleanup kills it.
func startTarget(t testing.TB) *target {
	exe := testprog.MustGo(t, "evaltarget")
	cmd := exec.Command(exe)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("target did not get ready: %q %v", line, err)
	}
	return &target{exe: exe, cmd: cmd}
}

func (tg *target) memory() Memory { return &inspect.Live{PID: tg.cmd.Process.Pid} }
