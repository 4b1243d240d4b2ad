package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/kernel/kmsg"
)

// TestPanicked checks what a panic on an LWK CPU leaves behind before the
// daemon dies of it: the PANIC state, a kmsg line, the Panic hook called
// with the reason and a stack, and the panic carried on.
func TestPanicked(t *testing.T) {
	var reason string
	var stack []byte
	k := &OS{State: "RUNNING", Kmsg: kmsg.New(), Hooks: Hooks{Panic: func(_ *OS, r string, s []byte) string { reason, stack = r, s; return "" }}}
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("panic carried on as %v, want boom", r)
		}
		if k.State != "PANIC" || reason != "cpu 3: boom" || !strings.Contains(string(stack), "TestPanicked") ||
			!strings.Contains(k.Kmsg.String(), "panic: cpu 3: boom") {
			t.Errorf("state %s, hook reason %q, stack %d bytes, kmsg %q", k.State, reason, len(stack), k.Kmsg.String())
		}
	}()
	k.panicked("cpu 3", "boom")
}

// TestBackgroundPanic: a panic in one of the kernel's goroutines, not an
// LWK CPU, goes through the Panic hook too, then ends the daemon. The
// daemon's end is a child test process's.
func TestBackgroundPanic(t *testing.T) {
	if os.Getenv("GOMCK_TEST_BACKGROUND_PANIC") == "1" {
		k := &OS{State: "RUNNING", Kmsg: kmsg.New(), Hooks: Hooks{Panic: func(_ *OS, r string, _ []byte) string {
			fmt.Printf("hook: %s\n", r)
			return ""
		}}}
		k.background("control", func() { panic("boom") })
		time.Sleep(10 * time.Second)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBackgroundPanic$")
	cmd.Env = append(os.Environ(), "GOMCK_TEST_BACKGROUND_PANIC=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil || !strings.Contains(stdout.String(), "hook: control: boom") || !strings.Contains(stderr.String(), "panic: boom") {
		t.Errorf("a panic in a kernel goroutine: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}
