package partition

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestNewMemory(t *testing.T) {
	const size = 64 << 20
	m, err := NewMemory("test", []MemChunk{{Size: size, Node: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	if len(m.Direct) != size || m.Size != size {
		t.Fatalf("len(Direct) = %d, Size = %d; want %d", len(m.Direct), m.Size, size)
	}
	if len(m.Chunks) != 1 || m.Chunks[0].Node < 0 || len(m.Offsets) != 1 || m.Offsets[0] != 0 {
		t.Errorf("Chunks = %v, Offsets = %v; want one resolved chunk at 0", m.Chunks, m.Offsets)
	}
	if os.Geteuid() == 0 && !m.Locked {
		t.Errorf("Locked = false as root")
	}
	flags, err := unix.FcntlInt(uintptr(m.FD), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC != 0 {
		t.Errorf("FD flags = %#x, %v; want close-on-exec clear", flags, err)
	}
	if link, _ := os.Readlink("/proc/self/fd/" + itoa(m.FD)); !strings.Contains(link, "memfd:gomck-test") {
		t.Errorf("memfd name = %q; want memfd:gomck-test", link)
	}

	// Every page is resident after NewMemory.
	vec := make([]byte, size/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m.Direct[0])),
		uintptr(len(m.Direct)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for i, v := range vec {
		if v&1 == 0 {
			t.Fatalf("page %d not resident", i)
		}
	}

	// A second mapping of the memfd (what mcexec does) sees the same memory.
	other, err := unix.Mmap(m.FD, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(other)
	copy(m.Direct[size-4096:], "hello from the LWK")
	if !bytes.HasPrefix(other[size-4096:], []byte("hello from the LWK")) {
		t.Errorf("second mapping does not see writes through Direct")
	}
	copy(other[12345:], "and back")
	if string(m.Direct[12345:12353]) != "and back" {
		t.Errorf("Direct does not see writes through the second mapping")
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if m.Direct != nil || m.FD != -1 {
		t.Errorf("after Close: Direct = %p, FD = %d", m.Direct, m.FD)
	}
}

func TestNewMemoryTooLarge(t *testing.T) {
	avail, err := AvailableBytes()
	if err != nil {
		t.Fatal(err)
	}
	before := countFDs(t)
	tests := []struct {
		name   string
		chunks []MemChunk
		want   string
	}{
		{"beyond available", []MemChunk{{Size: avail + 1<<30, Node: -1}}, "cannot reserve"},
		{"all available", []MemChunk{{Size: roundUp(avail, ChunkAlign), Node: -1}}, "cannot reserve"},
		{"split", []MemChunk{{Size: avail / 2, Node: -1}, {Size: avail / 2, Node: -1}, {Size: 1 << 30, Node: -1}}, "cannot reserve"},
		{"no node", []MemChunk{{Size: 2 << 20, Node: 1 << 10}}, "does not exist"},
		{"empty", nil, "no chunks"},
	}
	for _, tt := range tests {
		m, err := NewMemory("big", tt.chunks)
		if err == nil {
			m.Close()
			t.Fatalf("%s: NewMemory succeeded", tt.name)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q; want %q", tt.name, err, tt.want)
		}
	}
	if after := countFDs(t); after != before {
		t.Errorf("open descriptors %d -> %d: a refused request allocated a memfd", before, after)
	}
}

func TestMemoryNodeOf(t *testing.T) {
	const M = 1 << 20
	m := &Memory{
		Size:    10 * M,
		Chunks:  []MemChunk{{4 * M, 0}, {2 * M, 1}, {4 * M, 0}},
		Offsets: []int64{0, 4 * M, 6 * M},
	}
	tests := []struct {
		off  int64
		want int
	}{
		{0, 0}, {4*M - 1, 0}, {4 * M, 1}, {6*M - 1, 1}, {6 * M, 0}, {10*M - 1, 0},
		{10 * M, -1}, {-1, -1},
	}
	for _, tt := range tests {
		if got := m.NodeOf(tt.off); got != tt.want {
			t.Errorf("NodeOf(%#x) = %d; want %d", tt.off, got, tt.want)
		}
	}
}

// mbind itself is only used on NUMA machines; binding to node 0 is valid
// everywhere and checks the system call's arguments.
func TestMbindNode0(t *testing.T) {
	b, err := unix.Mmap(-1, 0, 4<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	if err := mbind(b, 0); err != nil {
		t.Fatalf("mbind to node 0: %v", err)
	}
	if err := mbind(b, 1000); err == nil {
		t.Errorf("mbind to node 1000 succeeded")
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func itoa(n int) string { return strconv.Itoa(n) }
