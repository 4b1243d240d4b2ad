package ikc

import (
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// channelPair creates a channel and maps it a second time, as the LWK and
// mcexec do; both go with the test.
func channelPair(t *testing.T, name string) (lwk, proxy *Channel) {
	lwk, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lwk.Close() })
	if proxy, err = Map(lwk.FD); err != nil {
		t.Fatal(err)
	}
	return lwk, proxy
}

// TestRoundTrip posts requests from one goroutine and serves them from
// workers on a second mapping of the same memfd, as the LWK and mcexec do.
func TestRoundTrip(t *testing.T) {
	lwk, proxy := channelPair(t, "test")
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, err := proxy.Take(100)
				if err != nil {
					return
				}
				s := proxy.Slot(i)
				proxy.Complete(i, int64(s.Nr+s.Args[0]))
			}
		}()
	}
	for n := uint64(0); n < 2000; n++ {
		lwk.Post(int(n%SlotCount), n, [6]uint64{7}, 1, 1)
		ret, err := lwk.Wait(int(n%SlotCount), 100)
		if err != nil || ret != int64(n+7) {
			t.Fatalf("request %d: %d, %v", n, ret, err)
		}
	}
	lwk.Abort()
	wg.Wait()
	if got := lwk.Requests(); got != 2000 {
		t.Fatalf("requests counted %d", got)
	}
}

func TestAbortWakesWaiter(t *testing.T) {
	c, err := Create("abort")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Post(3, 1, [6]uint64{}, 1, 1)
	done := make(chan error)
	go func() { _, err := c.Wait(3, 0); done <- err }()
	c.Abort()
	if err := <-done; err != ErrAborted {
		t.Fatalf("wait after abort: %v", err)
	}
}

func TestMappingLog(t *testing.T) {
	c, err := Create("log")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := uint64(0); i < LogCapacity; i++ {
		c.AppendLog(LogEntry{VA: i})
	}
	if !c.LogFull() {
		t.Fatal("log should be full")
	}
	var next uint64
	err = c.ReplayLog(func(e LogEntry) error {
		if e.VA != next {
			t.Fatalf("entry %d out of order: %d", next, e.VA)
		}
		next++
		return nil
	})
	if err != nil || next != LogCapacity || c.LogFull() {
		t.Fatalf("replayed %d, err %v, full %v", next, err, c.LogFull())
	}
}

func TestInWindow(t *testing.T) {
	for _, tc := range []struct {
		addr, n uint64
		want    bool
	}{
		{0x400000, 4096, true},
		{0, 1, false},
		{WindowEnd - 4096, 4096, true},
		{WindowEnd - 4096, 8192, false},
		{^uint64(0) - 10, 100, false},
	} {
		if got := InWindow(tc.addr, tc.n); got != tc.want {
			t.Errorf("InWindow(%#x, %d) = %v", tc.addr, tc.n, got)
		}
	}
}

// TestPostPath: a rewritten path reaches the other side's mapping of the
// slot, and a plain Post after it carries none.
func TestPostPath(t *testing.T) {
	lwk, proxy := channelPair(t, "path")
	defer proxy.Close()
	if err := lwk.PostPath(3, 257, [6]uint64{}, 1, 1, 1, strings.Repeat("x", PathMax)); err != ErrPathTooLong {
		t.Errorf("over-long path: %v, want ErrPathTooLong", err)
	}
	if err := lwk.PostPath(3, 257, [6]uint64{}, 1, 1, 1, "/run/view/proc/1/maps"); err != nil {
		t.Fatal(err)
	}
	arg, ptr, ok := proxy.PathArgument(3)
	if !ok || arg != 1 {
		t.Fatalf("PathArgument = %d, %v", arg, ok)
	}
	buf := proxy.pathBuf(3)
	if ptr != uintptr(unsafe.Pointer(&buf[0])) {
		t.Error("PathArgument points outside the slot's path buffer")
	}
	if got := unix.ByteSliceToString(buf); got != "/run/view/proc/1/maps" {
		t.Errorf("path in the slot: %q", got)
	}
	lwk.Post(3, 257, [6]uint64{}, 1, 1)
	if _, _, ok := proxy.PathArgument(3); ok {
		t.Error("a plain Post kept the rewritten path")
	}
}

func TestForkArgs(t *testing.T) {
	for _, avoid := range [][]int{nil, {7}, {1, 2, 3, 4194303, 5, 6, 7, 8}} {
		tok, got, reuse := ParseForkArgs(ForkArgs(42, avoid))
		if tok != 42 || !reuse || len(got) != len(avoid) {
			t.Fatalf("%v: token %d, avoid %v, reuse %v", avoid, tok, got, reuse)
		}
		for i := range avoid {
			if got[i] != avoid[i] {
				t.Errorf("%v: got %v", avoid, got)
			}
		}
	}
	if _, _, reuse := ParseForkArgs(ForkArgs(1, make([]int, 9))); reuse {
		t.Error("nine pids to avoid allowed reuse")
	}
}

// TestPostAfterAbort: a request posted on a channel torn down meanwhile
// (the process was killed from another CPU) fails instead of waiting for a
// worker that is gone.
func TestPostAfterAbort(t *testing.T) {
	c, err := Create("late")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Abort()
	c.Post(5, 3, [6]uint64{}, 1, 1)
	if _, err := c.Wait(5, 0); err != ErrAborted {
		t.Errorf("wait after a post on an aborted channel: %v, want ErrAborted", err)
	}
}

// TestAbortAfterClose: a kill racing with the end of its process aborts a
// channel that is closed already; that does nothing.
func TestAbortAfterClose(t *testing.T) {
	c, err := Create("closed")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c.Abort()
}

// TestResetForNextProcess aborts a channel as a process's end does, resets
// it and serves the next process on the same two mappings; a late
// interrupt for the old process's call matches nothing.
func TestResetForNextProcess(t *testing.T) {
	lwk, proxy := channelPair(t, "reset")
	lwk.Post(5, 1, [6]uint64{}, 1, 1)
	oldSeq := lwk.Seq(5)
	lwk.AppendLog(LogEntry{VA: WindowStart, Len: 4096})
	lwk.Abort()
	if _, err := proxy.Take(0); err != ErrAborted {
		t.Fatalf("take on the aborted channel: %v", err)
	}
	lwk.Reset()
	if lwk.Aborted() || lwk.Requests() != 0 || lwk.LogFull() {
		t.Fatal("reset left the old process's state")
	}
	if proxy.ReplayLog(func(LogEntry) error { t.Fatal("old log entry replayed"); return nil }) != nil {
		t.Fatal("replay")
	}
	lwk.Post(5, 2, [6]uint64{40}, 2, 2)
	if _, executing := lwk.Interrupt(5, oldSeq); executing {
		t.Fatal("an interrupt for the old process's call hit the new one")
	}
	i, err := proxy.Take(100)
	if err != nil || i != 5 {
		t.Fatalf("take: %d, %v", i, err)
	}
	if !proxy.Claim(i, 1) {
		t.Fatal("the new call counts as interrupted")
	}
	proxy.Complete(i, 42)
	if ret, err := lwk.Wait(5, 100); ret != 42 || err != nil {
		t.Fatalf("wait: %d, %v", ret, err)
	}
}

func TestSlotStateName(t *testing.T) {
	for state, want := range map[uint32]string{SlotFree: "free", SlotPosted: "posted", SlotTaken: "taken", SlotDone: "done", SlotAborted: "aborted", SlotAborted + 1: "?", ^uint32(0): "?"} {
		if got := SlotStateName(state); got != want {
			t.Errorf("SlotStateName(%d) = %q, want %q", state, got, want)
		}
	}
}
