package lwk

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect"
)

// partition is the seed daemon's direct map: the partition's first
// 3 MiB at directBase, each byte a function of its offset.
type partition []byte

func newPartition() partition {
	p := make(partition, 3<<20)
	for i := range p {
		p[i] = byte(i*7 + i>>12)
	}
	return p
}

func (p partition) ReadMemory(buf []byte, addr uint64) (int, error) {
	off := addr - directBase
	if addr < directBase || off+uint64(len(buf)) > uint64(len(p)) {
		return 0, fmt.Errorf("%#x unmapped", addr)
	}
	return copy(buf, p[off:]), nil
}

// seedApp reads the seed's snapshot and the daemon memory under it: the
// records, and the partition through the direct map.
func seedApp(t *testing.T) (*Snapshot, inspect.Memory, partition) {
	t.Helper()
	l := kernelLayout(t)
	part := newPartition()
	mem := inspect.Layers{&garbage{data: seedImage(l).img.b}, part}
	v, _ := l.Var(InstanceVar)
	snap, err := Read(&inspect.Target{Mem: mem, Bias: arenaBase - v.Addr, Source: "image"}, l, What{VMAs: true})
	if err != nil {
		t.Fatal(err)
	}
	return snap, mem, part
}

// TestAppMemory reads process 100 of the seed: its heap VMA
// [0x600000, 0x604000) has [0x600000, 0x602000) populated at partition
// offset 1 MiB, its stack VMA [0x610000, 0x614000) the same at 2 MiB.
func TestAppMemory(t *testing.T) {
	snap, mem, part := seedApp(t)
	m, err := NewAppMemory(mem, snap, 100)
	if err != nil {
		t.Fatal(err)
	}
	zeros := func(n int) []byte { return make([]byte, n) }
	at := func(off, n int) []byte { return part[off : off+n] }
	for _, tc := range []struct {
		name string
		addr uint64
		len  int
		want []byte // the bytes read, before the error if any
		err  string
	}{
		{"populated", 0x600010, 32, at(1<<20+0x10, 32), ""},
		{"populated then not", 0x601ff0, 32, slices.Concat(at(1<<20+0x1ff0, 16), zeros(16)), ""},
		{"never populated", 0x603000, 16, zeros(16), ""},
		{"a whole VMA", 0x600000, 0x4000, slices.Concat(at(1<<20, 0x2000), zeros(0x2000)), ""},
		{"another VMA", 0x610ffc, 8, at(2<<20+0xffc, 8), ""},
		{"past a VMA's end", 0x603ff8, 16, zeros(8), "pid 100: 0x604000 is not mapped"},
		{"across the gap between VMAs", 0x601000, 0x10000, slices.Concat(at(1<<20+0x1000, 0x1000), zeros(0x2000)), "pid 100: 0x604000 is not mapped"},
		{"unmapped", 0x500000, 1, nil, "pid 100: 0x500000 is not mapped"},
		{"the top of the address space", ^uint64(0) - 3, 8, nil, "pid 100: 0xfffffffffffffffc is not mapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := bytes.Repeat([]byte{0xee}, tc.len)
			n, err := m.ReadMemory(buf, tc.addr)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err || !errors.Is(err, ErrNotMapped)) {
				t.Errorf("ReadMemory(%#x, %d): %v, want error %q", tc.addr, tc.len, err, tc.err)
			}
			if n != len(tc.want) || !bytes.Equal(buf[:n], tc.want) {
				t.Errorf("ReadMemory(%#x, %d) read %d bytes %x, want %d: %x", tc.addr, tc.len, n, buf[:min(n, 32)], len(tc.want), tc.want[:min(len(tc.want), 32)])
			}
		})
	}
	want := []Range{{0x600000, 0x602000, true}, {0x602000, 0x604000, false}, {0x610000, 0x612000, true}, {0x612000, 0x614000, false}}
	if got := m.Ranges(); !slices.Equal(got, want) {
		t.Errorf("Ranges() = %+v, want %+v", got, want)
	}
}

// TestRanges cuts VMAs at their segments: linear neighbours (as mm
// merges them) and segments of other runs alike make one populated range.
func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		vma  VMA
		want []Range
	}{
		{"never populated", VMA{Start: 0x1000, End: 0x5000}, []Range{{0x1000, 0x5000, false}}},
		{"all populated, two runs", VMA{Start: 0x1000, End: 0x3000, Segs: []Segment{{VA: 0x1000, Len: 0x1000, Off: 0x9000}, {VA: 0x2000, Len: 0x1000, Off: 0x4000}}},
			[]Range{{0x1000, 0x3000, true}}},
		{"holes at both ends", VMA{Start: 0x1000, End: 0x5000, Segs: []Segment{{VA: 0x2000, Len: 0x1000}}},
			[]Range{{0x1000, 0x2000, false}, {0x2000, 0x3000, true}, {0x3000, 0x5000, false}}},
		{"a segment past the VMA (corrupt)", VMA{Start: 0x1000, End: 0x2000, Segs: []Segment{{VA: 0x1800, Len: 0x1000}}},
			[]Range{{0x1000, 0x1800, false}, {0x1800, 0x2000, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &AppMemory{VMAs: []VMA{tc.vma}}
			if got := m.Ranges(); !slices.Equal(got, tc.want) {
				t.Errorf("Ranges() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestAppMemoryErrors: what cannot be read is said, and why.
func TestAppMemoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pid    int
		change func(s *Snapshot)
		addr   uint64 // read when the memory opens
		err    string
	}{
		{"no such process", 7, func(*Snapshot) {}, 0, "no LWK process 7 in image"},
		{"changing address space", 100, func(s *Snapshot) { s.Procs[0].MMChanging = true }, 0, "pid 100: address space (changing)"},
		{"no page table read", 100, func(s *Snapshot) { s.Procs[0].VMAs = nil }, 0, "read it with What.VMAs"},
		{"partition released", 100, func(s *Snapshot) { s.Direct = 0 }, 0, "the daemon does not map the partition"},
		{"a segment past the partition", 100, func(s *Snapshot) { s.MemTotal = 2 << 20 }, 0x610000,
			"pid 100: 0x610000: partition offset 0x200000+0x1 is past the partition's 0x200000 bytes (corrupt page table?)"},
		{"the direct map unreadable", 100, func(s *Snapshot) { s.Direct = 0x1000 }, 0x600000,
			"pid 100: 0x600000: partition offset 0x100000: 0x101000 unmapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, mem, _ := seedApp(t)
			tc.change(snap)
			m, err := NewAppMemory(mem, snap, tc.pid)
			if err == nil {
				_, err = m.ReadMemory(make([]byte, 1), tc.addr)
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v, want %q", err, tc.err)
			}
		})
	}
}
