package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// recorder is a Mapper that records host mappings, so tests can check that
// the stub would see exactly the segments of the page table.
type recorder struct{ maps, unmaps, protects, files int }

func (r *recorder) Map(va, length, off uint64, prot int) error     { r.maps++; return nil }
func (r *recorder) Unmap(va, length uint64) error                  { r.unmaps++; return nil }
func (r *recorder) Protect(va, length uint64, prot int) error      { r.protects++; return nil }
func (r *recorder) MapFile(uint64, uint64, int, uint64, int) error { r.files++; return nil }
func (r *recorder) AttachSysV(uint64, int, int) error              { r.files++; return nil }

func newAS(t *testing.T, pages uint64) (*AddressSpace, *Allocator, *recorder) {
	t.Helper()
	direct := make([]byte, pages*PageSize)
	a := NewAllocator(pages*PageSize, nil, func(off, n uint64) { clear(direct[off : off+n]) })
	r := &recorder{}
	as := NewAddressSpace(a, direct, r, Layout{Min: 0x10000, Max: 1 << 40, MmapTop: 1 << 39, HeapExtend: 2 << 20})
	return as, a, r
}

func TestAllocatorCoalesces(t *testing.T) {
	a := NewAllocator(100*PageSize, nil, nil)
	r1, _ := a.AllocContig(10)
	r2, _ := a.AllocContig(20)
	r3, _ := a.AllocContig(30)
	for _, r := range []Run{r2, r1, r3} {
		a.FreeRun(r)
	}
	if len(a.Runs) != 1 || a.Free != 100 || a.Largest() != 100 {
		t.Fatalf("runs %v free %d", a.Runs, a.Free)
	}
	if _, err := a.AllocContig(101); err == nil {
		t.Fatal("allocated more than the partition")
	}
}

func TestAllocScattered(t *testing.T) {
	a := NewAllocator(10*PageSize, nil, nil)
	var held []Run
	for i := 0; i < 10; i++ {
		r, _ := a.AllocContig(1)
		held = append(held, r)
	}
	for i := 0; i < 10; i += 2 {
		a.FreeRun(held[i])
	}
	runs, err := a.Alloc(5)
	if err != nil || len(runs) != 5 {
		t.Fatalf("scattered alloc: %v %v", runs, err)
	}
	if _, err := a.Alloc(1); err == nil {
		t.Fatal("allocated from an empty partition")
	}
}

func TestMapUnmapAccounting(t *testing.T) {
	as, a, r := newAS(t, 1024)
	addr, err := as.Map(MapRequest{Length: 64 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	if r.maps != 1 || a.Free != 1024-64 {
		t.Fatalf("maps=%d free=%d: want one host mapping of a contiguous run", r.maps, a.Free)
	}
	if err := as.CopyOut(addr+100, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := as.Unmap(addr+16*PageSize, 16*PageSize); err != nil {
		t.Fatal(err)
	}
	if len(as.VMAs) != 2 || a.Free != 1024-48 {
		t.Fatalf("after hole: %d VMAs, free %d", len(as.VMAs), a.Free)
	}
	got := make([]byte, 5)
	as.CopyIn(addr+100, got)
	if !bytes.Equal(got, []byte("hello")) {
		t.Fatalf("read back %q", got)
	}
	as.Release()
	if a.Free != 1024 || len(a.Runs) != 1 {
		t.Fatalf("leak: free %d runs %v", a.Free, a.Runs)
	}
}

func TestDemandPagingWhenFragmented(t *testing.T) {
	as, a, _ := newAS(t, 64)
	var held []Run
	for i := 0; i < 64; i++ {
		r, _ := a.AllocContig(1)
		held = append(held, r)
	}
	for i := 0; i < 64; i += 2 {
		a.FreeRun(held[i])
	}
	addr, err := as.Map(MapRequest{Length: 8 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	if as.VMAs[0].Populated() != 0 {
		t.Fatal("fragmented partition: VMA should wait for faults")
	}
	if res := as.Fault(addr + 3*PageSize + 5); res != FaultHandled {
		t.Fatalf("fault: %v", res)
	}
	if as.VMAs[0].Populated() != 8*PageSize {
		t.Fatalf("fault-around populated %d bytes", as.VMAs[0].Populated())
	}
	if res := as.Fault(addr + 5*PageSize); res != FaultPopulated {
		t.Fatalf("fault on a populated page: %v", res)
	}
	if res := as.Fault(1 << 38); res != FaultMapErr {
		t.Fatalf("fault outside VMAs: %v", res)
	}
	if _, err := as.Map(MapRequest{Length: 100 * PageSize, Prot: unix.PROT_READ}); err != unix.ENOMEM {
		t.Fatalf("oversized map: %v", err)
	}
}

func TestBrkAndRemap(t *testing.T) {
	as, a, _ := newAS(t, 4096)
	as.SetBrk(0x1000000)
	if got := as.SetBrkTo(0x1000000 + 100); got != 0x1000000+100 {
		t.Fatalf("brk grow: %#x", got)
	}
	as.CopyOut(0x1000000, []byte{1, 2, 3})
	as.SetBrkTo(0x1000000)
	as.SetBrkTo(0x1000000 + 100)
	b := make([]byte, 3)
	as.CopyIn(0x1000000, b)
	if !bytes.Equal(b, []byte{0, 0, 0}) {
		t.Fatalf("regrown brk not zero: %v", b)
	}
	addr, _ := as.Map(MapRequest{Length: 4 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	as.CopyOut(addr, []byte("keep"))
	as.Map(MapRequest{Addr: addr + 4*PageSize, Length: PageSize, Prot: unix.PROT_READ, Fixed: true})
	to, err := as.Remap(addr, 4*PageSize, 32*PageSize, true)
	if err != nil || to == addr {
		t.Fatalf("remap: %#x %v", to, err)
	}
	b = make([]byte, 4)
	as.CopyIn(to, b)
	if string(b) != "keep" {
		t.Fatalf("moved contents %q", b)
	}
	as.Release()
	if a.Free != 4096 {
		t.Fatalf("leak: %d free", a.Free)
	}
}

// TestClearOnReuse checks that freed pages are cleared when handed out
// again, and only then, except to an owner that overwrites them.
func TestClearOnReuse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alloc func(a *Allocator) []Run
		clear bool // the dirty page comes back cleared
	}{
		{"contiguous", func(a *Allocator) []Run { r, _ := a.AllocContig(8); return []Run{r} }, true},
		{"scattered", func(a *Allocator) []Run { r, _ := a.Alloc(8); return r }, true},
		{"at", func(a *Allocator) []Run { a.AllocAt(0, 8); return []Run{{0, 8}} }, true},
		{"overwritten", func(a *Allocator) []Run { r, _ := a.AllocOverwritten(8); return r }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct := make([]byte, 8*PageSize)
			zeroed := 0
			a := NewAllocator(8*PageSize, nil, func(off, n uint64) { clear(direct[off : off+n]); zeroed += int(n / PageSize) })
			all, _ := a.AllocContig(8)
			direct[3*PageSize] = 1 // page 3 was written, then freed
			a.FreeRun(all)
			if a.Free != 8 || len(a.Dirty) != 1 || a.Dirty[0] != (Run{0, 8}) || zeroed != 0 {
				t.Fatalf("after free: free %d dirty %v, %d pages cleared", a.Free, a.Dirty, zeroed)
			}
			runs := tc.alloc(a)
			var pages uint64
			for _, r := range runs {
				pages += r.Pages
			}
			if pages != 8 || a.Free != 0 || len(a.Dirty) != 0 {
				t.Fatalf("allocated %v: free %d dirty %v", runs, a.Free, a.Dirty)
			}
			if got := direct[3*PageSize] == 0; got != tc.clear {
				t.Errorf("page 3 cleared: %v, want %v", got, tc.clear)
			}
			if want := map[bool]int{true: 8}[tc.clear]; zeroed != want {
				t.Errorf("%d pages cleared, want %d", zeroed, want)
			}
		})
	}
}

// TestDirtyPartialReuse checks that an allocation takes its part of a
// dirty run and leaves the rest dirty, and that pages never freed are not
// cleared again.
func TestDirtyPartialReuse(t *testing.T) {
	zeroed := 0
	a := NewAllocator(16*PageSize, nil, func(off, n uint64) { zeroed += int(n / PageSize) })
	a.AllocContig(4) // pages 0-3, clear from boot
	if zeroed != 0 {
		t.Fatalf("%d pages cleared from a fresh partition", zeroed)
	}
	a.FreeRun(Run{1, 2})
	if !a.AllocAt(2, 1) || zeroed != 1 {
		t.Fatalf("AllocAt of a dirty page: %d cleared", zeroed)
	}
	if len(a.Dirty) != 1 || a.Dirty[0] != (Run{1, 1}) {
		t.Fatalf("dirty %v, want page 1 only", a.Dirty)
	}
	a.FreeRun(Run{2, 1})
	a.FreeRun(Run{0, 1})
	a.FreeRun(Run{3, 1})
	if len(a.Dirty) != 1 || a.Dirty[0] != (Run{0, 4}) || len(a.Runs) != 1 || a.Free != 16 {
		t.Fatalf("after freeing all: runs %v dirty %v free %d", a.Runs, a.Dirty, a.Free)
	}
}
