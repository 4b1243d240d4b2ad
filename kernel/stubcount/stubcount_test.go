package stubcount

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/platform/ptrace"
)

// toucher is the app code the stubs run: it writes one byte to each of
// rsi pages from rdi on, then makes a system call (a SYSEMU stop).
var toucher = []byte{
	0xc6, 0x07, 0x01, // mov byte [rdi], 1
	0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, // add rdi, 4096
	0x48, 0xff, 0xce, // dec rsi
	0x75, 0xf1, // jnz back to the mov
	0x0f, 0x05, // syscall
}

const (
	codeVA = ikc.WindowStart
	dataVA = ikc.WindowStart + 1<<24 // its own VMA, far from the code's
	pages  = 64
)

// testStubs starts n stubs over one partition, each with toucher mapped
// and populated and a data window of fresh partition pages, unpopulated:
// every page a run writes is one Linux page fault of that stub.
func testStubs(t testing.TB, n int) []platform.Context {
	part, err := unix.MemfdCreate("stubcount-partition", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(part) })
	if err := unix.Ftruncate(part, (1+pages)*4096); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(part, toucher, 0); err != nil {
		t.Fatal(err)
	}
	plat, err := ptrace.New(part, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plat.Close() })
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for !set.IsSet(cpu) {
		cpu++
	}
	var stubs []platform.Context
	for range n {
		s, err := plat.NewContext(cpu)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Kill(); s.Release() })
		if err := s.Map(codeVA, 4096, 0, unix.PROT_READ|unix.PROT_EXEC, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Map(dataVA, pages*4096, 4096, unix.PROT_READ|unix.PROT_WRITE, false); err != nil {
			t.Fatal(err)
		}
		stubs = append(stubs, s)
	}
	return stubs
}

// touch runs toucher in stub s over n pages from page first.
func touch(t *testing.T, s platform.Context, first, n int) {
	t.Helper()
	regs := s.InitialRegs()
	regs.Rip, regs.Rdi, regs.Rsi = codeVA, dataVA+uint64(first)*4096, uint64(n)
	st, err := s.Run(&regs)
	if err != nil || st.Kind != platform.StopSyscall {
		t.Fatalf("stub %d: stop %+v, %v; want a system call", s.HostTID(), st, err)
	}
}

// attrOf is a perf_event_attr of a Linux software event, as an app
// would pass it.
func attrOf(config uint64) []byte {
	a := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: config, Bits: unix.PerfBitDisabled | unix.PerfBitInherit}
	a.Size = uint32(unsafe.Sizeof(a))
	return unsafe.Slice((*byte)(unsafe.Pointer(&a)), unsafe.Sizeof(a))
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestPerThreadDeltas counts Linux's page-fault event of the stubs for
// app threads that take turns on them, as the kernel's switch path does:
// each thread gets the faults of its own runs, on whichever stub, a
// thread not counted gets none and is not charged to the others, and a
// run in progress is read up to now. Alone and as the member of a Linux
// group led by the stubs' task clock.
func TestPerThreadDeltas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grouped bool
	}{{"alone", false}, {"grouped", true}} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread() // the stubs' tracer
			defer runtime.UnlockOSThread()
			stubs := testStubs(t, 2)
			a, b := stubs[0], stubs[1]
			baseFDs := openFDs(t)
			var leader *Counter
			if tc.grouped {
				leader = New(attrOf(unix.PERF_COUNT_SW_TASK_CLOCK), nil)
			}
			c := New(attrOf(unix.PERF_COUNT_SW_PAGE_FAULTS), leader)
			if err := c.Open(a.HostTID()); err != nil {
				t.Fatalf("open on stub %d: %v", a.HostTID(), err)
			}
			const one, two, uncounted = 1, 2, 3
			c.Watch(one)
			c.Watch(two)
			if leader != nil {
				leader.Watch(one)
			}
			next := 0
			run := func(tid int, s platform.Context, n int) {
				for _, k := range []*Counter{leader, c} {
					if k != nil {
						if err := k.Begin(tid, s.HostTID()); err != nil {
							t.Fatalf("begin %d on %d: %v", tid, s.HostTID(), err)
						}
					}
				}
				touch(t, s, next, n)
				next += n
				if got, _ := c.Read(tid); tid == one && got < 5 {
					t.Errorf("thread %d mid-run: %d faults, want its last run's too", tid, got)
				}
				for _, k := range []*Counter{leader, c} {
					if k != nil {
						if err := k.End(tid); err != nil {
							t.Fatalf("end %d: %v", tid, err)
						}
					}
				}
			}
			run(one, a, 5)
			run(two, a, 3)
			run(uncounted, a, 7)
			run(one, b, 4) // migrated: b's counter opens now
			run(two, a, 2)
			for _, w := range []struct{ tid, faults int }{{one, 9}, {two, 5}, {uncounted, 0}} {
				got, lost := c.Read(w.tid)
				if got != uint64(w.faults) || lost != 0 {
					t.Errorf("thread %d: %d faults, %d ns not counted; want %d, 0", w.tid, got, lost, w.faults)
				}
			}
			if leader != nil {
				if ns, _ := leader.Read(one); ns == 0 {
					t.Error("the group leader's task clock counted nothing")
				}
			}
			c.Forget(two)
			if got, _ := c.Read(two); got != 0 {
				t.Errorf("forgotten thread: %d faults", got)
			}
			c.Close()
			if leader != nil {
				leader.Close()
			}
			if n := openFDs(t); n != baseFDs {
				t.Errorf("%d descriptors open after Close, %d before the counters", n, baseFDs)
			}
			if err := c.Begin(one, a.HostTID()); err != nil {
				t.Errorf("begin after close: %v", err)
			}
		})
	}
}

// TestOpenRefused: Linux's refusal of an event is Open's error, and a
// stub where the open failed is not retried at every run.
func TestOpenRefused(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := testStubs(t, 1)[0]
	c := New(attrOf(1000), nil) // no such software event
	defer c.Close()
	if err := c.Open(s.HostTID()); err != unix.ENOENT {
		t.Fatalf("open: %v, want ENOENT", err)
	}
	c.Watch(1)
	if err := c.Begin(1, s.HostTID()); err != nil {
		t.Errorf("begin on a stub refused before: %v, want none (told once)", err)
	}
}

// BenchmarkSwitchRead is the cost a switch pays per counted event: Begin
// at load and End at unload, a read each.
func BenchmarkSwitchRead(b *testing.B) {
	c, stub, stop := stoppedCounter(b)
	defer stop()
	c.Watch(1)
	for b.Loop() {
		c.Begin(1, stub)
		c.End(1)
	}
}

// BenchmarkSwitchToggle is the alternative: the counter enabled at load
// and disabled at unload (the per-thread split would still need reads).
func BenchmarkSwitchToggle(b *testing.B) {
	c, stub, stop := stoppedCounter(b)
	defer stop()
	fd := c.fds[stub]
	for b.Loop() {
		unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0)
		unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_DISABLE, 0)
	}
}

// stoppedCounter opens the stubs' page-fault event on a stopped stub, as
// a counter is between runs, and returns it with the stub's tid.
func stoppedCounter(b *testing.B) (*Counter, int, func()) {
	runtime.LockOSThread()
	s := testStubs(b, 1)[0]
	c := New(attrOf(unix.PERF_COUNT_SW_PAGE_FAULTS), nil)
	if err := c.Open(s.HostTID()); err != nil {
		b.Fatal(err)
	}
	return c, s.HostTID(), func() { c.Close(); runtime.UnlockOSThread() }
}
