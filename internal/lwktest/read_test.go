package lwktest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
)

// patterns is where testdata/c/patterns keeps its known bytes.
type patterns struct {
	pid                   int
	global, heap, mapping uint64
	heapBytes             []byte
}

// TestInspectRead reads an app's memory with mcinspect --read, through
// its page table and the daemon's direct map of the partition, live and
// from a gcore of the daemon: a global, the heap, a demand-paged mapping
// and its never populated pages, and an address in no VMA. The daemon
// inherits a core dump filter that leaves shared memory out: it must put
// its partition back in (partition.KeepInCoreDumps) for the gcore to hold
// the app's memory.
func TestInspectRead(t *testing.T) {
	inheritCoredumpFilter(t, 0x31)
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M")
	app := launch(t, in, testprog.MustC(t, "patterns"))
	said := startReady(t, app)
	var p patterns
	var heapLen int
	if _, err := fmt.Sscanf(strings.Join(said, " "), "%x %x %d %x", &p.global, &p.heap, &heapLen, &p.mapping); err != nil {
		t.Fatalf("patterns said %q: %v", said, err)
	}
	p.pid = app.Process.Pid
	for i := range heapLen {
		p.heapBytes = append(p.heapBytes, byte(i*31+7))
	}
	t.Run("live", func(t *testing.T) { checkRead(t, in, p) })
	t.Run("gcore", func(t *testing.T) { checkRead(t, in, p, "--dump", gcoreOf(t, in)) })
}

// inheritCoredumpFilter sets the test's core dump filter (core(5)), which
// the daemons it boots inherit, until the test ends.
func inheritCoredumpFilter(t *testing.T, filter uint64) {
	const path = "/proc/self/coredump_filter"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fmt.Appendf(nil, "%#x", filter), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(path, append([]byte("0x"), bytes.TrimSpace(old)...), 0) })
}

// checkRead runs mcinspect --read on the target args name (the live
// daemon, or --dump FILE) and checks that it shows patterns' bytes.
func checkRead(t *testing.T, in *Instance, p patterns, target ...string) {
	pid := strconv.Itoa(p.pid)
	read := func(va uint64, n int) []string {
		return append(target, "--read", "-p", pid, "-v", fmt.Sprintf("%x", va), "-n", strconv.Itoa(n))
	}
	for _, tc := range []struct {
		name string
		va   uint64
		want []byte
	}{
		{"global", p.global, []byte(fmt.Sprintf("gomck global, pid %d\x00", p.pid))},
		{"heap", p.heap, p.heapBytes},
		{"demand-paged", p.mapping, []byte("gomck demand page\x00")},
		{"never populated", p.mapping + 512<<10, make([]byte, 8192)},
	} {
		var got struct {
			PID int
			VA  uint64
			Hex string
		}
		runJSON(t, in, &got, "mcinspect", read(tc.va, len(tc.want))...)
		if b, err := hex.DecodeString(got.Hex); err != nil || string(b) != string(tc.want) || got.PID != p.pid || got.VA != tc.va {
			t.Errorf("--read of the %s at %#x: pid %d at %#x: %.64s..., want %.64x...", tc.name, tc.va, got.PID, got.VA, got.Hex, tc.want)
		}
	}
	var tr struct{ Populated bool }
	runJSON(t, in, &tr, "mcinspect", append(target, "--vtop", "-p", pid, "-v", fmt.Sprintf("%x", p.mapping+512<<10))...)
	if tr.Populated {
		t.Errorf("--vtop: the page --read showed as zeros is populated")
	}
	if out, err := in.Cmd("mcinspect", read(p.global, 32)...).CombinedOutput(); err != nil || !strings.Contains(string(out), "  gomck global, pi\n") {
		t.Errorf("--read of the global as a hex dump: %v\n%s", err, out)
	}
	out, err := in.Cmd("mcinspect", read(0x1000, 1)...).CombinedOutput()
	if want := fmt.Sprintf("mcinspect: pid %d: 0x1000 is not mapped\n", p.pid); err == nil || string(out) != want {
		t.Errorf("--read of an unmapped address: %v, said %q, want %q", err, out, want)
	}
}
