package mm

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// memfd returns a memfd of size bytes holding "before", and a second
// descriptor of it for the test to read and write as Linux would.
func memfd(t *testing.T, size int64) (fd, linux int) {
	t.Helper()
	fd, err := unix.MemfdCreate("filemap", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd, []byte("before"), 0); err != nil {
		t.Fatal(err)
	}
	linux, err = unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(linux) })
	return fd, linux
}

// mapFile maps the first two pages of fd's file shared into as.
func mapFile(t *testing.T, as *AddressSpace, fd int) uint64 {
	t.Helper()
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenFileMap(dup, 0, 2*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	va, err := as.Map(MapRequest{Length: 2 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE, Flags: unix.MAP_SHARED, Kind: KindFile, File: f})
	if err != nil {
		t.Fatal(err)
	}
	return va
}

// TestFileMapCoherent checks that the LWK's reads and writes of a shared
// file mapping are the file's bytes, both ways; that two processes (a
// fork too) meet on the same futex key; and that the mapping lets go of
// the file with its last VMA and takes no partition memory.
func TestFileMapCoherent(t *testing.T) {
	as, a, r := newAS(t, 64)
	free := a.FreePages()
	fd, linux := memfd(t, 2*PageSize)
	va := mapFile(t, as, fd)
	if r.files != 1 || a.FreePages() != free {
		t.Fatalf("%d file maps, %d pages taken", r.files, free-a.FreePages())
	}
	got := make([]byte, 6)
	if err := as.CopyIn(va, got); err != nil || string(got) != "before" {
		t.Fatalf("read %q (%v), want the file's bytes", got, err)
	}
	if err := as.CopyOut(va+PageSize-2, []byte("span")); err != nil {
		t.Fatal(err)
	}
	onLinux := make([]byte, 4)
	unix.Pread(linux, onLinux, PageSize-2)
	if string(onLinux) != "span" {
		t.Fatalf("Linux reads %q where the LWK wrote span", onLinux)
	}
	unix.Pwrite(linux, []byte("after!"), 0)
	as.CopyIn(va, got)
	if string(got) != "after!" {
		t.Fatalf("the LWK reads %q after Linux wrote after!", got)
	}

	other, _, _ := newAS(t, 64)
	va2 := mapFile(t, other, fd)
	w1, _, err1 := as.Word(va + 8)
	w2, _, err2 := other.Word(va2 + 8)
	w3, _, _ := other.Word(va2 + 12)
	if err1 != nil || err2 != nil || w1.Key != w2.Key || w1.Key == w3.Key || w1.Key&fileKeyBit == 0 {
		t.Errorf("futex keys %#x and %#x (%v, %v) for one word, %#x for the next", w1.Key, w2.Key, err1, err2, w3.Key)
	}
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if wc, _, _ := child.Word(va + 8); wc.Key != w1.Key {
		t.Errorf("a forked child's key %#x, the parent's %#x", wc.Key, w1.Key)
	}
	file := as.VMAs[0].File
	for _, s := range []*AddressSpace{child, other} {
		s.Release()
	}
	if err := as.Unmap(va, PageSize); err != nil { // split: the rest still maps it
		t.Fatal(err)
	}
	if file.Mem == nil {
		t.Fatal("the file was unmapped while a VMA still maps it")
	}
	as.Unmap(va+PageSize, PageSize)
	if file.Mem != nil || a.FreePages() != free {
		t.Errorf("after the last unmap: mapped %v, %d pages taken", file.Mem != nil, free-a.FreePages())
	}
	if _, err := unix.FcntlInt(uintptr(file.FD), unix.F_GETFD, 0); err == nil {
		t.Errorf("the daemon's descriptor %d of the file is still open", file.FD)
	}
}

// TestFileMapTruncated checks that the LWK touching a page a truncation
// took from under the mapping gets EFAULT, as Linux's copies do, and
// does not die of the SIGBUS.
func TestFileMapTruncated(t *testing.T) {
	as, _, _ := newAS(t, 64)
	fd, linux := memfd(t, 2*PageSize)
	va := mapFile(t, as, fd)
	unix.Ftruncate(linux, PageSize)
	b := make([]byte, 8)
	if err := as.CopyIn(va+PageSize, b); !errors.Is(err, unix.EFAULT) {
		t.Errorf("read past the end: %v, want EFAULT", err)
	}
	if err := as.CopyOut(va, []byte("still")); err != nil {
		t.Errorf("write inside the file: %v", err)
	}
	if _, _, err := as.Word(va + PageSize); !errors.Is(err, unix.EFAULT) {
		t.Errorf("futex word past the end: %v, want EFAULT", err)
	}
	as.CopyIn(va, b[:5])
	if !bytes.Equal(b[:5], []byte("still")) {
		t.Errorf("read back %q", b[:5])
	}
	as.Release()
}

// TestFileMapReadOnly checks that a shared mapping of a file open
// read-only cannot be made writable: EACCES, as Linux's mprotect.
func TestFileMapReadOnly(t *testing.T) {
	as, _, _ := newAS(t, 64)
	fd, _ := memfd(t, 2*PageSize)
	ro, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenFileMap(ro, 0, 2*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	va, err := as.Map(MapRequest{Length: 2 * PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_SHARED, Kind: KindFile, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := as.Protect(va, PageSize, unix.PROT_READ|unix.PROT_WRITE); !errors.Is(err, unix.EACCES) {
		t.Errorf("mprotect writable: %v, want EACCES", err)
	}
	as.Release()
}
