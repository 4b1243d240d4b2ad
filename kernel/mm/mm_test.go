package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// recorder is a Mapper that records host mappings, so tests can check that
// the stub would see exactly the segments of the page table.
type recorder struct{ maps, unmaps, protects int }

func (r *recorder) Map(va, length, off uint64, prot int) error { r.maps++; return nil }
func (r *recorder) Unmap(va, length uint64) error              { r.unmaps++; return nil }
func (r *recorder) Protect(va, length uint64, prot int) error  { r.protects++; return nil }

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
