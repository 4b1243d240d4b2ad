package ptrace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// startTestStub starts a stub traced by the calling (locked) thread, with
// a small memfd as its partition; it is killed when the test ends.
func startTestStub(t *testing.T) *Stub {
	exe, err := stubExecutable()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(exe) })
	part, err := unix.MemfdCreate("test-partition", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(part) })
	if err := unix.Ftruncate(part, 1<<20); err != nil {
		t.Fatal(err)
	}
	s, err := startStub(exe, part, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Kill(); s.Release() })
	return s
}

// TestInjectAll maps more segments than one batch holds, in one call, and
// checks the stub's maps; a failing call stops the batch with its errno.
func TestInjectAll(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := startTestStub(t)
	var calls []call
	for i := range uint64(batchMax + 5) {
		va := ikc.WindowStart + 2*i*4096 // apart: no merging
		calls = append(calls, mapCall(va, 4096, i*4096, unix.PROT_READ))
	}
	if err := s.injectAll(calls); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", s.PID))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(maps), "test-partition"); n != len(calls) {
		t.Fatalf("%d partition mappings, want %d:\n%s", n, len(calls), maps)
	}
	bad := []call{calls[0], {Nr: unix.SYS_MUNMAP, Args: [6]uint64{ikc.WindowStart + 1, 4096}}, calls[1]}
	if err := s.injectAll(bad); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("a misaligned munmap in a batch: %v, want EINVAL", err)
	}
	if pid, err := s.Inject(unix.SYS_GETPID); err != nil || int(pid) != s.PID {
		t.Fatalf("getpid injected after the batches: %d, %v", pid, err)
	}
}

// TestWipeWithBatch: a wiped stub's window is emptied by the next batch,
// in the same stop as its calls, and by the next single injection.
func TestWipeWithBatch(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := startTestStub(t)
	mappings := func() int {
		maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", s.PID))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(maps), "test-partition")
	}
	old := mapCall(ikc.WindowStart, 4096, 0, unix.PROT_READ)
	if err := s.injectAll([]call{old}); err != nil {
		t.Fatal(err)
	}
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if n := mappings(); n != 1 {
		t.Fatalf("%d mappings after Wipe, want the old one still", n)
	}
	if err := s.injectAll([]call{mapCall(ikc.WindowStart+1<<20, 4096, 4096, unix.PROT_READ)}); err != nil {
		t.Fatal(err)
	}
	if n := mappings(); n != 1 {
		t.Fatalf("%d mappings after the batch, want only the new one", n)
	}
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Inject(unix.SYS_GETPID); err != nil {
		t.Fatal(err)
	}
	if n := mappings(); n != 0 {
		t.Fatalf("%d mappings after an injection, want none", n)
	}
}
