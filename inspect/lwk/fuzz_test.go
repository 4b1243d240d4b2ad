package lwk

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/value"
)

// kernelLayout is the layout Read decodes with, loaded from the DWARF of
// the daemon built from cmd/mckernel (go test strips its own binary): the
// records the decoders read are the kernel's own, as they are today. It
// is built once per test binary.
func kernelLayout(t testing.TB) *layout.Layout {
	t.Helper()
	daemon.once.Do(func() {
		dir, err := os.MkdirTemp("", "gomck-lwk-test-")
		if err != nil {
			daemon.err = err
			return
		}
		defer os.RemoveAll(dir)
		exe := filepath.Join(dir, "mckernel")
		if out, err := exec.Command("go", "build", "-o", exe, module+"cmd/mckernel").CombinedOutput(); err != nil {
			daemon.err = fmt.Errorf("build cmd/mckernel: %v\n%s", err, out)
			return
		}
		daemon.l, daemon.err = layout.Load(exe, "test", Roots)
	})
	if daemon.err != nil {
		t.Fatal(daemon.err)
	}
	return daemon.l
}

var daemon struct {
	once sync.Once
	l    *layout.Layout
	err  error
}

// arena is where an image's bytes are: the daemon's heap, readable and
// zero past what the image sets. With everywhere, the image repeats over
// the whole address space instead, as garbage whose every pointer and
// length lands somewhere readable.
const (
	arenaBase = 0xc000000000
	arenaSize = 1 << 20
)

type garbage struct {
	data       []byte
	everywhere bool
	asked      int64 // bytes asked for, read or not
}

func (g *garbage) ReadMemory(buf []byte, addr uint64) (int, error) {
	g.asked += int64(len(buf))
	for i := range buf {
		a := addr + uint64(i)
		switch off := a - arenaBase; {
		case g.everywhere && len(g.data) > 0:
			buf[i] = g.data[a%uint64(len(g.data))]
		case off < uint64(len(g.data)):
			buf[i] = g.data[off]
		case off < arenaSize:
			buf[i] = 0
		default:
			return i, fmt.Errorf("%#x unmapped", a)
		}
	}
	return len(buf), nil
}

// target reads g with kernel.Instance at arenaBase: the image's first
// word points to the instance record.
func target(l *layout.Layout, g *garbage) *inspect.Target {
	v, _ := l.Var(InstanceVar)
	return &inspect.Target{Mem: g, Bias: arenaBase - v.Addr, Source: "image"}
}

// image lays out kernel records in an arena by the layout's offsets.
type image struct {
	l *layout.Layout
	b []byte
}

func newImage(l *layout.Layout) *image {
	m := &image{l: l}
	m.alloc(8) // kernel.Instance
	return m
}

// alloc returns the address of n new zero bytes.
func (m *image) alloc(n int64) uint64 {
	off := (len(m.b) + 7) &^ 7
	m.b = append(m.b, make([]byte, off-len(m.b)+int(n))...)
	return arenaBase + uint64(off)
}

// rec allocates a record of the type named typ (after "github.com/gomck/gomck/").
func (m *image) rec(typ string) uint64 {
	t, ok := m.l.Lookup(module + typ)
	if !ok {
		panic("no type " + typ)
	}
	return m.alloc(t.Size)
}

// at returns the offset in m.b and the type of field path of the record
// of type typ at addr.
func (m *image) at(addr uint64, typ, path string) (int, *layout.Type) {
	t, _ := m.l.Lookup(module + typ)
	off := int(addr - arenaBase)
	for name := range strings.SplitSeq(path, ".") {
		f, ok := t.Field(name)
		if !ok {
			panic(fmt.Sprintf("no field %s in %s", path, typ))
		}
		off, t = off+int(f.Off), m.l.Types[f.Type]
	}
	return off, t
}

// set writes an integer, bool or pointer field (or the v of an atomic).
func (m *image) set(addr uint64, typ, path string, v uint64) {
	off, t := m.at(addr, typ, path)
	if t.Kind == layout.Struct {
		f, _ := t.Field("v")
		off, t = off+int(f.Off), m.l.Types[f.Type]
	}
	b := binary.LittleEndian.AppendUint64(nil, v)
	copy(m.b[off:off+int(t.Size)], b)
}

// header points a string or slice field at n elements at p.
func (m *image) header(addr uint64, typ, path string, p uint64, n int) {
	off, t := m.at(addr, typ, path)
	m.put(off, p, uint64(n))
	if t.Kind == layout.Slice {
		m.put(off+16, uint64(n))
	}
}

// put writes words at offset off of the image.
func (m *image) put(off int, ws ...uint64) {
	for i, w := range ws {
		binary.LittleEndian.PutUint64(m.b[off+8*i:], w)
	}
}

// strAt writes a string header at addr, its bytes new.
func (m *image) strAt(addr uint64, s string) {
	p := m.alloc(int64(len(s)))
	copy(m.b[p-arenaBase:], s)
	m.put(int(addr-arenaBase), p, uint64(len(s)))
}

func (m *image) str(addr uint64, typ, path, s string) {
	off, _ := m.at(addr, typ, path)
	m.strAt(arenaBase+uint64(off), s)
}

// words points a slice field at a new array of words (pointers, or the
// fields of small records laid end to end).
func (m *image) words(addr uint64, typ, path string, n int, ws ...uint64) {
	p := m.alloc(int64(8 * len(ws)))
	m.put(int(p-arenaBase), ws...)
	m.header(addr, typ, path, p, n)
}

// seed is what seedImage lays out, for the test to check it reads back.
type seed struct {
	img          *image
	os, proc, ch uint64
	threads      [2]uint64
}

// directBase is where the seed's daemon maps its partition (1 GiB), out
// of the arena.
const directBase = 0x7f0000000000

// seedImage lays out a booted instance: CPU 0 idle, CPU 1 running
// thread 101 of process 100 (/bin/app -x, stub 98), whose thread 102 is
// runnable; two VMAs, [heap] at 0x600000 and [stack] at 0x610000, each of
// 16 KiB with its first 8 KiB populated (at partition offsets 1 MiB and
// 2 MiB); an IKC channel, and an allocator with one node. The kmsg
// ring (256 KiB) is left outside the arena: unreadable unless everywhere.
// The threads go last, their zero tails overlapping, to keep the image
// small.
func seedImage(l *layout.Layout) seed {
	m := newImage(l)
	s := seed{img: m}
	const OS, CPU, Queue, Table, Proc, Thread = "kernel.OS", "kernel.CPU", "kernel/sched.Queue", "kernel/task.Table", "kernel/task.Process", "kernel/task.Thread"
	const AS, VMA, Alloc, Chan, Hdr, Mem = "kernel/mm.AddressSpace", "kernel/mm.VMA", "kernel/mm.Allocator", "delegator/ikc.Channel", "delegator/ikc.header", "delegator/partition.Memory"
	const Stub = "kernel/task.Context"
	s.os = m.rec(OS)
	binary.LittleEndian.PutUint64(m.b, s.os)
	m.str(s.os, OS, "State", "running")
	m.set(s.os, OS, "BootTime", 1_700_000_000e9)
	mem := m.rec(Mem)
	m.set(mem, Mem, "Size", 1<<30)
	m.header(mem, Mem, "Direct", directBase, 1<<30)
	m.set(s.os, OS, "Mem", mem)
	cpus := [2]uint64{m.rec(CPU), m.rec(CPU)}
	m.words(s.os, OS, "CPUs", 2, cpus[:]...)
	queues := [2]uint64{m.rec(Queue), m.rec(Queue)}
	for i, c := range cpus {
		m.set(c, CPU, "Index", uint64(i))
		m.set(c, CPU, "Host", uint64(4+i))
		m.str(c, CPU, "State", []string{"idle", "running"}[i])
		m.set(c, CPU, "Queue", queues[i])
	}
	m.set(cpus[1], CPU, "Since", 12345)
	table := m.rec(Table)
	m.set(s.os, OS, "Procs", table)
	s.proc = m.rec(Proc)
	m.words(table, Table, "Procs", 1, s.proc)
	for f, v := range map[string]uint64{"PID": 100, "PPID": 1, "PGID": 100, "SID": 1, "ProxyPID": 99, "Home": 1, "Stopped": 1} {
		m.set(s.proc, Proc, f, v)
	}
	m.str(s.proc, Proc, "Exe", "/bin/app")
	args := m.alloc(32)
	for i, a := range []string{"app", "-x"} {
		m.strAt(args+16*uint64(i), a)
	}
	m.header(s.proc, Proc, "Args", args, 2)
	stub := m.rec(Stub)
	m.set(stub, Stub, "PID", 98)
	m.set(s.proc, Proc, "Stub", stub)
	as := m.rec(AS)
	m.set(s.proc, Proc, "MM", as)
	m.set(as, AS, "Brk", 0x602000)
	vmas := [2]uint64{m.rec(VMA), m.rec(VMA)}
	m.words(as, AS, "VMAs", 2, vmas[:]...)
	for i, v := range vmas {
		start := uint64(0x600000 + 0x10000*i)
		m.set(v, VMA, "Start", start)
		m.set(v, VMA, "End", start+0x4000)
		m.set(v, VMA, "Prot", 3)
		m.set(v, VMA, "Kind", uint64(1+i))
		m.str(v, VMA, "Name", []string{"[heap]", "[stack]"}[i])
		m.words(v, VMA, "Segs", 1, start, 0x2000, 0x100000*uint64(i+1)) // one mm.Segment: VA, Len, Off
	}
	s.ch = m.rec(Chan)
	hdr := m.rec(Hdr)
	m.set(s.proc, Proc, "Chan", s.ch)
	m.set(s.ch, Chan, "hdr", hdr)
	m.set(hdr, Hdr, "Requests", 42)
	m.set(hdr, Hdr, "LogHead", 7)
	alloc := m.rec(Alloc)
	m.set(s.os, OS, "Alloc", alloc)
	m.set(alloc, Alloc, "Pages", 1<<18)
	m.set(alloc, Alloc, "Free", 1<<17)
	m.words(alloc, Alloc, "Runs", 2, 0, 1<<16, 1<<17, 1<<16) // two mm.Run: Start, Pages
	m.words(alloc, Alloc, "Nodes", 1, 0, 0, 1<<18, 1<<17)    // one mm.NodeRange
	m.set(s.os, OS, "Kmsg", arenaBase+arenaSize)
	// A thread record is 18 KiB, mostly per-syscall counters left zero:
	// each thread's zero tail lies under the next, or past the image.
	th, _ := l.Lookup(module + Thread)
	stats, _ := th.Field("Stats")
	s.threads = [2]uint64{m.alloc(stats.Off + 96), m.alloc(stats.Off + 96)} // the scalar counters
	m.words(s.proc, Proc, "Threads", 2, s.threads[:]...)
	m.words(queues[1], Queue, "Runnable", 1, s.threads[1])
	m.set(cpus[1], CPU, "Current", s.threads[0])
	for i, t := range s.threads {
		m.set(t, Thread, "TID", uint64(101+i))
		m.set(t, Thread, "CPU", 1)
		m.set(t, Thread, "State", uint64(1-i)) // running, runnable
		m.set(t, Thread, "Syscall", ^uint64(0))
		m.set(t, Thread, "Stats.LocalCalls", 5)
	}
	m.set(s.threads[0], Thread, "Syscall", 0) // read
	for len(m.b) > 0 && m.b[len(m.b)-1] == 0 {
		m.b = m.b[:len(m.b)-1]
	}
	return s
}

// TestRead decodes the seed image, then images corrupted as a wedged or
// dying daemon leaves its memory: each is read, with the damage reported
// as an error or a changing record, and the rest decoded.
func TestRead(t *testing.T) {
	l := kernelLayout(t)
	const Proc, Thread, Table = "kernel/task.Process", "kernel/task.Thread", "kernel/task.Table"
	for _, tc := range []struct {
		name   string
		damage func(s seed)
		check  func(t *testing.T, snap *Snapshot)
	}{
		{"intact", func(seed) {}, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) != 1 {
				t.Fatalf("processes %+v, errors %q", snap.Procs, snap.Errors)
			}
			p := snap.Procs[0]
			if snap.State != "running" || len(snap.CPUs) != 2 || snap.CPUs[1].Current != 101 || len(snap.CPUs[1].Runnable) != 1 ||
				p.PID != 100 || p.Exe != "/bin/app" || p.StubPID != 98 || snap.Direct != directBase || snap.CPUs[1].Since != 12345 || strings.Join(p.Args, " ") != "app -x" || !p.Stopped ||
				len(p.Threads) != 2 || !p.Threads[0].Current || p.Threads[0].SyscallName != "read" ||
				len(p.VMAs) != 2 || p.VMAs[1].Kind != "[stack]" || p.RSS != 0x4000 || p.IKC == nil || p.IKC.Requests != 42 ||
				snap.Alloc.Runs != 2 || len(snap.Alloc.Nodes) != 1 || len(snap.Errors) != 1 { // the kmsg ring
				t.Errorf("snapshot %+v", snap)
			}
		}},
		{"writer stopped inside a thread", func(s seed) { s.img.set(s.threads[1], Thread, "Seq", 3) }, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) != 1 || len(snap.Procs[0].Threads) != 2 {
				t.Fatalf("processes %+v, errors %q", snap.Procs, snap.Errors)
			}
			// Its counters are not under its sequence counter: they still read.
			if th := snap.Procs[0].Threads; !th[1].Changing || th[1].TID != 102 || th[1].LocalCalls != 5 || th[1].State != "" || th[0].TID != 101 {
				t.Errorf("threads %+v", th)
			}
		}},
		// A record that cannot be read is left out, and said why; its
		// neighbours are read.
		{"huge thread count", func(s seed) { s.img.header(s.proc, Proc, "Threads", s.threads[0], 1<<60) }, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) != 0 || len(snap.CPUs) != 2 || !hasError(snap, "implausible length 1152921504606846976") {
				t.Errorf("processes %+v, errors %q", snap.Procs, snap.Errors)
			}
		}},
		{"huge executable name", func(s seed) { s.img.header(s.proc, Proc, "Exe", arenaBase, 1<<40) }, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) != 0 || !hasError(snap, "implausible length") {
				t.Errorf("processes %+v, errors %q", snap.Procs, snap.Errors)
			}
		}},
		{"dangling thread pointer", func(s seed) { s.img.words(s.proc, Proc, "Threads", 2, s.threads[0], 0xdead0000) }, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) != 1 {
				t.Fatalf("processes %+v, errors %q", snap.Procs, snap.Errors)
			}
			if th := snap.Procs[0].Threads; len(th) != 1 || th[0].TID != 101 || !hasError(snap, "thread: 0xdead0000 unmapped") {
				t.Errorf("threads %+v, errors %q", th, snap.Errors)
			}
		}},
		{"dangling CPU pointer", func(s seed) {
			cpus, _ := s.img.at(s.os, "kernel.OS", "CPUs")
			s.img.put(int(binary.LittleEndian.Uint64(s.img.b[cpus:])-arenaBase), 8)
		}, func(t *testing.T, snap *Snapshot) {
			if len(snap.CPUs) != 1 || snap.CPUs[0].Index != 1 || !hasError(snap, "cpu: 0x8 unmapped") {
				t.Errorf("CPUs %+v, errors %q", snap.CPUs, snap.Errors)
			}
		}},
		// The table's pointers are the image's words, zeros past it, and
		// unmapped past the arena: most fail, a few read as processes.
		{"a million garbage process pointers", func(s seed) {
			tb := s.img.rec(Table)
			s.img.set(s.os, "kernel.OS", "Procs", tb)
			s.img.header(tb, Table, "Procs", arenaBase, value.MaxElems)
		}, func(t *testing.T, snap *Snapshot) {
			if len(snap.Procs) > 100 || len(snap.Errors) != maxErrors+1 || !hasError(snap, "more errors") {
				t.Errorf("%d processes, errors %q", len(snap.Procs), snap.Errors)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := seedImage(l)
			tc.damage(s)
			snap, err := Read(target(l, &garbage{data: s.img.b}), l, What{VMAs: true, IKC: true, Kmsg: true, Regs: true})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, snap)
		})
	}
}

func hasError(s *Snapshot, part string) bool {
	for _, e := range s.Errors {
		if strings.Contains(e, part) {
			return true
		}
	}
	return false
}

// FuzzRead decodes an instance from fuzzed memory, typed by the kernel's
// own records: Read returns a snapshot or an error, never panics, and
// reads within the reader's budget however lengths and pointers nest.
func FuzzRead(f *testing.F) {
	l := kernelLayout(f)
	s := seedImage(l)
	for _, everywhere := range []bool{false, true} {
		f.Add(s.img.b, everywhere, uint8(0))
		f.Add(s.img.b, everywhere, uint8(15))
	}
	// A budget of a few MiB, for executions the fuzzer can afford; the
	// kmsg ring alone is 256 KiB.
	const budget = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte, everywhere bool, what uint8) {
		g := &garbage{data: data, everywhere: everywhere}
		allocs := heapAllocs()
		snap, err := read(target(l, g), l, What{VMAs: what&1 != 0, IKC: what&2 != 0, Kmsg: what&4 != 0, Regs: what&8 != 0}, budget)
		if err == nil && snap == nil {
			t.Fatal("no snapshot and no error")
		}
		if g.asked > budget {
			t.Errorf("asked for %d bytes, over the budget of %d", g.asked, budget)
		}
		if n := heapAllocs() - allocs; n > 4*budget {
			t.Errorf("allocated %d bytes, over 4 times the budget of %d", n, budget)
		}
		if snap != nil && len(snap.Errors) > maxErrors+1 {
			t.Errorf("%d errors", len(snap.Errors))
		}
	})
}

// heapAllocs is the bytes allocated so far by this process.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
