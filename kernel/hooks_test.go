package kernel

import (
	"strings"
	"testing"

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
	k.panicked(&CPU{Index: 3}, "boom")
}
