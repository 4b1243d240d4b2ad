package eval

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/testprog"
)

// liveMemory reads a running process with process_vm_readv, without
// attaching to or stopping it. Test-only: inspect.OpenLive is the real one.
type liveMemory int

func (pid liveMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(int(pid), local, remote, 0)
	if err != nil {
		return n, fmt.Errorf("process_vm_readv pid %d at %#x: %w", int(pid), addr, err)
	}
	return n, nil
}

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

func (tg *target) memory() liveMemory { return liveMemory(tg.cmd.Process.Pid) }
