package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFork: the child has the same mappings with copied contents that
// change independently; attaching maps each populated segment once; every
// page returns when both are released, and a fork that does not fit fails
// with ENOMEM and takes nothing.
func TestFork(t *testing.T) {
	as, a, _ := newAS(t, 64)
	addr, err := as.Map(MapRequest{Length: 8 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	demand, err := as.Map(MapRequest{Length: 16 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE, Demand: true})
	if err != nil {
		t.Fatal(err)
	}
	as.CopyOut(addr, []byte("parent"))
	as.CopyOut(demand+PageSize, []byte("sparse"))
	free := a.FreePages()

	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	segs, err := child.Attach(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.maps != len(segs) || len(segs) == 0 {
		t.Errorf("attach mapped %d segments of %d", r.maps, len(segs))
	}
	prss, _ := as.Usage()
	crss, _ := child.Usage()
	if prss != crss || a.FreePages() != free-crss/PageSize {
		t.Errorf("child rss %d, parent %d, free %d -> %d", crss, prss, free, a.FreePages())
	}
	for _, tc := range []struct {
		va   uint64
		want string
	}{{addr, "parent"}, {demand + PageSize, "sparse"}} {
		b := make([]byte, len(tc.want))
		if err := child.CopyIn(tc.va, b); err != nil || string(b) != tc.want {
			t.Errorf("child at %#x: %q, %v; want %q", tc.va, b, err, tc.want)
		}
	}
	child.CopyOut(addr, []byte("child!"))
	b := make([]byte, 6)
	as.CopyIn(addr, b)
	if !bytes.Equal(b, []byte("parent")) {
		t.Errorf("the child's write reached the parent: %q", b)
	}
	child.Release()
	if a.FreePages() != free {
		t.Errorf("free after the child's release %d, want %d", a.FreePages(), free)
	}

	// Fill the partition so the next copy cannot fit.
	if _, err := as.Map(MapRequest{Length: a.FreePages() * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE, Populate: true}); err != nil {
		t.Fatal(err)
	}
	before := a.FreePages()
	if _, err := as.Fork(); err != unix.ENOMEM {
		t.Errorf("fork of a full partition: %v, want ENOMEM", err)
	}
	if a.FreePages() != before {
		t.Errorf("failed fork kept pages: free %d, want %d", a.FreePages(), before)
	}
	as.Release()
	if a.FreePages() != 64 {
		t.Errorf("free after release %d, want 64", a.FreePages())
	}
}

// TestForkShared: MAP_SHARED anonymous memory is populated at once and
// mapped by parent and child alike, so each sees the other's stores; its
// pages stay while any piece of it is mapped anywhere, split or not, and
// return with the last.
func TestForkShared(t *testing.T) {
	as, a, _ := newAS(t, 64)
	addr, err := as.Map(MapRequest{Length: 8 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS, Demand: true})
	if err != nil {
		t.Fatal(err)
	}
	if rss, _ := as.Usage(); rss != 8*PageSize {
		t.Errorf("shared mapping populated %d bytes, want all %d", rss, 8*PageSize)
	}
	free := a.FreePages()
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if a.FreePages() != free {
		t.Errorf("fork copied shared pages: free %d -> %d", free, a.FreePages())
	}
	child.CopyOut(addr+3*PageSize, []byte("child"))
	b := make([]byte, 5)
	if as.CopyIn(addr+3*PageSize, b); string(b) != "child" {
		t.Errorf("parent reads %q where the child wrote", b)
	}
	// The parent unmaps the middle and advises the rest away: the child's
	// view keeps every byte.
	if err := as.Unmap(addr+2*PageSize, 2*PageSize); err != nil {
		t.Fatal(err)
	}
	as.DontNeed(addr, 8*PageSize)
	if child.CopyIn(addr+3*PageSize, b); string(b) != "child" {
		t.Errorf("child reads %q after the parent's unmap", b)
	}
	as.Release()
	if a.FreePages() != free {
		t.Errorf("pages the child maps were freed: free %d, want %d", a.FreePages(), free)
	}
	child.Release()
	if a.FreePages() != 64 {
		t.Errorf("free after both released %d, want 64", a.FreePages())
	}
}

// TestForkSharesReadOnlyFile: a read-only private file mapping is shared
// by parent and child, not copied; a write by the LWK or an mprotect to
// writable gives the writer its own copy, which the other never sees; every
// page returns once both are released, whichever goes first.
func TestForkSharesReadOnlyFile(t *testing.T) {
	for _, tc := range []struct {
		name        string
		write       func(as *AddressSpace, text uint64) error
		parentFirst bool
	}{
		{name: "copy out", write: func(as *AddressSpace, text uint64) error { return as.CopyOut(text+8, []byte("child")) }},
		{name: "mprotect", write: func(as *AddressSpace, text uint64) error {
			if err := as.Protect(text, 2*PageSize, unix.PROT_READ|unix.PROT_WRITE); err != nil {
				return err
			}
			return as.CopyOut(text+8, []byte("child"))
		}},
		{name: "parent released first", parentFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, a, _ := newAS(t, 64)
			text, err := as.Map(MapRequest{Length: 4 * PageSize, Prot: unix.PROT_READ | unix.PROT_EXEC, Kind: KindFile, Name: "/lib/x.so"})
			if err != nil {
				t.Fatal(err)
			}
			if err := as.CopyOut(text+8, []byte("parent")); err != nil {
				t.Fatal(err)
			}
			free := a.FreePages()
			child, err := as.Fork()
			if err != nil {
				t.Fatal(err)
			}
			if a.FreePages() != free {
				t.Fatalf("fork copied read-only text: free %d -> %d", free, a.FreePages())
			}
			if _, err := child.Attach(&recorder{}); err != nil {
				t.Fatal(err)
			}
			poff, _, _ := as.Translate(text)
			coff, _, _ := child.Translate(text)
			if poff != coff {
				t.Fatalf("child's text at partition offset %#x, parent's at %#x", coff, poff)
			}
			if tc.write != nil {
				if err := tc.write(child, text); err != nil {
					t.Fatal(err)
				}
				if coff, _, _ = child.Translate(text); coff == poff {
					t.Fatal("the child wrote to the shared pages")
				}
				b := make([]byte, 6)
				as.CopyIn(text+8, b)
				if string(b) != "parent" {
					t.Errorf("parent reads %q after the child's write", b)
				}
				child.CopyIn(text+8, b[:5])
				if string(b[:5]) != "child" {
					t.Errorf("child reads %q after its write", b[:5])
				}
			}
			first, second := child, as
			if tc.parentFirst {
				first, second = as, child
			}
			first.Release()
			if tc.parentFirst {
				b := make([]byte, 6)
				child.CopyIn(text+8, b)
				if string(b) != "parent" {
					t.Errorf("child reads %q once the parent is gone", b)
				}
			}
			second.Release()
			if a.FreePages() != 64 {
				t.Errorf("free after both released %d, want 64", a.FreePages())
			}
		})
	}
}

// TestReadOnly: a buffer that starts in memory the app may not write is
// refused for an offloaded read.
func TestReadOnly(t *testing.T) {
	as, _, _ := newAS(t, 64)
	ro, _ := as.Map(MapRequest{Length: 2 * PageSize, Prot: unix.PROT_READ})
	rw, _ := as.Map(MapRequest{Length: 2 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	for _, tc := range []struct {
		lo   uint64
		want bool
	}{{ro, true}, {ro + PageSize, true}, {rw, false}, {rw - PageSize, false}} {
		if got := as.ReadOnly(tc.lo, tc.lo+1); got != tc.want {
			t.Errorf("ReadOnly(%#x) = %v, want %v", tc.lo, got, tc.want)
		}
	}
}

// TestForkLeavesZerosOut: runs of zero pages of a fault-around block or
// more in anonymous memory are not copied; the child demand-faults zeroed
// pages there, shorter runs are copied, and contents match either way.
func TestForkLeavesZerosOut(t *testing.T) {
	as, a, _ := newAS(t, 256)
	hole := as.Layout.FaultAround
	length := (4*hole + 4) * PageSize
	addr, err := as.Map(MapRequest{Length: length, Prot: unix.PROT_READ | unix.PROT_WRITE, Populate: true})
	if err != nil {
		t.Fatal(err)
	}
	// Data in pages 0, 2 (a short zero run between) and 2*hole+2 (a long
	// one before it); zeros after it to the end.
	marks := map[uint64]string{0: "first", 2: "second", 2*hole + 2: "far"}
	for page, s := range marks {
		as.CopyOut(addr+page*PageSize, []byte(s))
	}
	free := a.FreePages()
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	rss, _ := child.Usage()
	if want := uint64(3+1) * PageSize; rss != want {
		t.Errorf("child rss %d, want %d (pages 0-2 and the far one)", rss, want)
	}
	if a.FreePages() != free-rss/PageSize {
		t.Errorf("free %d -> %d for a child of rss %d", free, a.FreePages(), rss)
	}
	if _, err := child.Attach(&recorder{}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, length)
	if err := child.CopyIn(addr, got); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, length)
	for page, s := range marks {
		copy(want[page*PageSize:], s)
	}
	if !bytes.Equal(got, want) {
		t.Error("the child's memory differs from the parent's")
	}
	child.Release()
	if a.FreePages() != free {
		t.Errorf("free after the child's release %d, want %d", a.FreePages(), free)
	}
}

// TestForkHeapAboveBreak: the heap's pages above the break, populated by
// brk's step but holding zeros, are neither read nor copied.
func TestForkHeapAboveBreak(t *testing.T) {
	as, _, _ := newAS(t, 1024)
	as.BrkStart, as.Brk = 0x100000, 0x100000
	brk := as.BrkStart + 5*PageSize + 10
	if got := as.SetBrkTo(brk); got != brk {
		t.Fatalf("brk %#x, want %#x", got, brk)
	}
	if rss, _ := as.Usage(); rss <= 16*PageSize {
		t.Fatalf("heap rss %d: brk populated no more than the break", rss)
	}
	as.CopyOut(brk-1, []byte("x"))
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Release()
	if rss, _ := child.Usage(); rss != 6*PageSize {
		t.Errorf("child rss %d, want the 6 pages below the break", rss)
	}
	b := make([]byte, 2)
	if err := child.CopyIn(brk-1, b); err != nil || string(b) != "x\x00" {
		t.Errorf("child at the break: %q, %v", b, err)
	}
}
