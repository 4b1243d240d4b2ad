package mm

import (
	"bytes"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRemoteCopy moves bytes between two address spaces of one partition
// as process_vm_readv and process_vm_writev do, and stops where the remote
// side cannot be reached.
func TestRemoteCopy(t *testing.T) {
	rw := unix.PROT_READ | unix.PROT_WRITE
	for _, tc := range []struct {
		name   string
		write  bool
		demand bool // the remote mapping is not populated
		prot   int  // the remote mapping's
		at, n  uint64
		want   int // bytes moved
		zeros  bool
	}{
		{name: "read", prot: rw, at: 100, n: 3 * PageSize, want: 3 * PageSize},
		{name: "write", write: true, prot: rw, at: 100, n: 3 * PageSize, want: 3 * PageSize},
		{name: "read past the end", prot: rw, at: 7 * PageSize, n: 2 * PageSize, want: PageSize},
		{name: "write past the end", write: true, prot: rw, at: 7*PageSize + 8, n: 2 * PageSize, want: PageSize - 8},
		{name: "read not populated", demand: true, prot: rw, n: 2 * PageSize, want: 2 * PageSize, zeros: true},
		{name: "write not populated", write: true, demand: true, prot: rw, n: PageSize, want: 0},
		{name: "read unreadable", prot: unix.PROT_NONE, n: PageSize, want: 0},
		{name: "write read-only", write: true, prot: unix.PROT_READ, n: PageSize, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, a, _ := newAS(t, 1024)
			remote := NewAddressSpace(a, local.direct, &recorder{}, local.Layout)
			base := a.Free
			lva, err := local.Map(MapRequest{Length: 4 * PageSize, Prot: rw})
			if err != nil {
				t.Fatal(err)
			}
			rva, err := remote.Map(MapRequest{Length: 8 * PageSize, Prot: tc.prot, Demand: tc.demand})
			if err != nil {
				t.Fatal(err)
			}
			mine := bytes.Repeat([]byte("L"), int(tc.n))
			if err := local.CopyOut(lva, mine); err != nil {
				t.Fatal(err)
			}
			theirs := bytes.Repeat([]byte("R"), 8*PageSize)
			if !tc.demand && tc.prot&unix.PROT_WRITE != 0 {
				if err := remote.CopyOut(rva, theirs); err != nil {
					t.Fatal(err)
				}
			}
			got, err := local.RemoteCopy(lva, remote, rva+tc.at, tc.n, tc.write)
			if got != tc.want || err != nil {
				t.Fatalf("moved %d, %v: want %d, nil", got, err, tc.want)
			}
			moved := make([]byte, got)
			if tc.write {
				remote.reach(rva+tc.at, moved, false)
				if !bytes.Equal(moved, mine[:got]) {
					t.Error("the remote side does not hold what was written")
				}
			} else {
				if err := local.CopyIn(lva, moved); err != nil {
					t.Fatal(err)
				}
				want := byte('R')
				if tc.zeros {
					want = 0
				}
				if !bytes.Equal(moved, bytes.Repeat([]byte{want}, got)) {
					t.Errorf("read %q..., want %q", moved[:min(8, got)], want)
				}
			}
			local.Release()
			remote.Release()
			if a.Free != base {
				t.Errorf("free %d pages after release, want %d", a.Free, base)
			}
		})
	}
}

// TestRemoteCopyLocal: a local hole is EFAULT, after the bytes before it.
func TestRemoteCopyLocal(t *testing.T) {
	local, remote, lva, rva := twoSpaces(t, 2, 4)
	if err := local.Unmap(lva+PageSize, PageSize); err != nil {
		t.Fatal(err)
	}
	if got, err := local.RemoteCopy(lva, remote, rva, 2*PageSize, false); got != PageSize || err != unix.EFAULT {
		t.Errorf("moved %d, %v: want %d, EFAULT", got, err, PageSize)
	}
}

// TestRemoteCopyBothWays: two processes copying from each other at once
// take the two locks in one order (a deadlock hangs the test).
func TestRemoteCopyBothWays(t *testing.T) {
	x, y, xva, yva := twoSpaces(t, 16, 16)
	var wg sync.WaitGroup
	for _, p := range [][2]*AddressSpace{{x, y}, {y, x}, {x, x}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := xva, yva
			if p[0] == y {
				from, to = yva, xva
			} else if p[1] == x {
				to = xva + 8*PageSize
			}
			for range 1000 {
				if n, err := p[0].RemoteCopy(from, p[1], to, 8*PageSize, true); n != 8*PageSize || err != nil {
					t.Errorf("moved %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// twoSpaces makes two address spaces of one partition, each with a
// populated read-write mapping of the pages given.
func twoSpaces(t *testing.T, xPages, yPages uint64) (x, y *AddressSpace, xva, yva uint64) {
	t.Helper()
	x, a, _ := newAS(t, 1024)
	y = NewAddressSpace(a, x.direct, &recorder{}, x.Layout)
	rw := unix.PROT_READ | unix.PROT_WRITE
	var err error
	if xva, err = x.Map(MapRequest{Length: xPages * PageSize, Prot: rw}); err != nil {
		t.Fatal(err)
	}
	if yva, err = y.Map(MapRequest{Length: yPages * PageSize, Prot: rw}); err != nil {
		t.Fatal(err)
	}
	return x, y, xva, yva
}
