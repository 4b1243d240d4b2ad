package dumpfile

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomck/gomck/gencore"
)

// sample writes a dump of three ranges: daemon memory with a zero block,
// and a partition range of random (incompressible) and repeated bytes;
// scale divides their sizes (the fuzzer wants small ones).
func sample(t testing.TB, scale int) (string, map[uint64][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	mem := map[uint64][]byte{
		0x400000:   bytes.Repeat([]byte("daemon text "), 30000/scale),
		0xc000000:  make([]byte, (2*BlockSize+4096)/scale), // zeros, then a few bytes
		0x7f000000: make([]byte, (BlockSize+100)/scale),
	}
	copy(mem[0xc000000][len(mem[0xc000000])-4096/scale:], "the heap's end")
	for i := range mem[0x7f000000] {
		mem[0x7f000000][i] = byte(rng.IntN(256))
	}
	ranges := []Range{
		{VA: 0x400000, Size: uint64(len(mem[0x400000])), PA: NoPA, Prot: 5},
		{VA: 0xc000000, Size: uint64(len(mem[0xc000000])), PA: NoPA, Prot: 3},
		{VA: 0x7f000000, Size: uint64(len(mem[0x7f000000])), PA: 0x1000000, Prot: 3},
	}
	path := filepath.Join(t.TempDir(), "mcdump")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, ranges, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ranges {
		b := mem[r.VA]
		for len(b) > 0 {
			n := min(len(b), BlockSize)
			if err := w.Block(i, b[:n]); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
	}
	c := &Contents{
		Header:  Header{Instance: 3, Level: Level0, BuildID: "abcd", Kernel: "/x/mckernel", DaemonPID: 77, State: "RUNNING", Reason: "test"},
		Process: gencore.Process{PID: 77, Name: "mckernel"},
		Auxv:    []uint64{9, 0x401000, 0, 0},
		Files:   []gencore.Area{{Start: 0x400000, End: 0x500000, File: "/x/mckernel"}},
		Kmsg:    "[    0.1] booted\n",
		Threads: []Thread{{PID: 5, TID: 6, CPU: 0, State: 'S'}},
		OpenFiles: []OpenFile{{PID: 5, FD: 0, Path: "/dev/null", Type: "CHR"},
			{PID: 5, FD: 3, Path: "pipe:[42]", Type: "FIFO", Pos: 7, Flags: 0o2}},
	}
	c.Threads[0].Regs.Rip = 0x401234
	if err := w.Finish(c); err != nil {
		t.Fatal(err)
	}
	return path, mem
}

// TestOpenFiles reads the open files note back, and a dump without it
// (one written before NTFiles) as one that says it has none recorded.
func TestOpenFiles(t *testing.T) {
	path, _ := sample(t, 64)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasFiles || len(d.OpenFiles) != 2 || d.OpenFiles[1] != (OpenFile{PID: 5, FD: 3, Path: "pipe:[42]", Type: "FIFO", Pos: 7, Flags: 0o2}) {
		t.Errorf("open files read back as %+v (recorded: %v)", d.OpenFiles, d.HasFiles)
	}
	d.Close()
	// The note's type renamed to one no reader knows: an older dump.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var typ [4]byte
	le.PutUint32(typ[:], NTFiles)
	at := bytes.Index(b, append(typ[:], NoteName+"\x00"...))
	if at < 0 {
		t.Fatal("no open files note in the dump")
	}
	le.PutUint32(b[at:], NTFiles|0xff)
	old := filepath.Join(t.TempDir(), "old")
	if err := os.WriteFile(old, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err = Open(old)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.HasFiles || d.OpenFiles != nil {
		t.Errorf("a dump without the note has files %+v (recorded: %v)", d.OpenFiles, d.HasFiles)
	}
}

func TestRoundTrip(t *testing.T) {
	path, mem := sample(t, 1)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Header.Instance != 3 || d.PID != 77 || d.Kmsg != "[    0.1] booted\n" || len(d.Threads) != 1 || d.Threads[0].Regs.Rip != 0x401234 || d.Executable() != "/x/mckernel" {
		t.Errorf("read back %+v, threads %+v", d.Header, d.Threads)
	}
	for va, want := range mem {
		got := make([]byte, len(want))
		if n, err := d.ReadMemory(got, va); err != nil || n != len(want) || !bytes.Equal(got, want) {
			t.Errorf("range %#x: %d bytes, %v, equal %v", va, n, err, bytes.Equal(got, want))
		}
	}
	b := make([]byte, 14)
	if _, err := d.ReadPhys(b, 0x1000000); err != nil || !bytes.Equal(b, mem[0x7f000000][:14]) {
		t.Errorf("ReadPhys: %v", err)
	}
	if _, err := d.ReadMemory(b, 0x500000); err == nil || !strings.Contains(err.Error(), "not in the dump") {
		t.Errorf("read outside: %v", err)
	}
}

// TestBadFiles: truncated, corrupt and foreign files are refused, each
// with an error naming where and what, never a panic.
func TestBadFiles(t *testing.T) {
	path, _ := sample(t, 1)
	whole, _ := os.ReadFile(path)
	dir := t.TempDir()
	try := func(name string, b []byte) error {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		d, err := Open(p)
		if err == nil {
			d.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "offset 0"},
		{"text", []byte("hello, world\n"), "ELF magic"},
		{"truncated", whole[:len(whole)/2], "past the end of the file"},
		{"headers only", whole[:4096], "past the end of the file"},
	} {
		if err := try(tc.name, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	gcore := filepath.Join(dir, "gcore")
	f, _ := os.Create(gcore)
	gencore.Write(f, &gencore.Core{Threads: []gencore.Thread{{TID: 1}}}, gencore.NoLimit)
	f.Close()
	if _, err := Open(gcore); !errors.Is(err, ErrNotDump) {
		t.Errorf("a gcore: %v, want ErrNotDump", err)
	}
	if Is(gcore) || !Is(path) {
		t.Error("Is tells a gcore from a dump wrongly")
	}
	// Every byte of the notes flipped in turn: an error or a dump, and
	// reads that fail cleanly.
	for i := len(whole) - 1; i > len(whole)-600 && i > 0; i-- {
		b := bytes.Clone(whole)
		b[i] ^= 0xff
		p := filepath.Join(dir, "flip")
		os.WriteFile(p, b, 0o600)
		if d, err := Open(p); err == nil {
			buf := make([]byte, 64)
			for _, r := range d.Ranges {
				d.ReadMemory(buf, r.VA)
			}
			d.Close()
		}
	}
}

func FuzzOpen(f *testing.F) {
	path, _ := sample(f, 256)
	whole, _ := os.ReadFile(path)
	f.Add(whole[:8192], uint16(0))
	f.Add(whole[len(whole)-2048:], uint16(100))
	f.Fuzz(func(t *testing.T, tail []byte, at uint16) {
		b := bytes.Clone(whole)
		// The fuzzer rewrites the notes' end (index, threads) or the
		// headers, where the reader trusts least.
		if int(at) < len(b) {
			copy(b[len(b)-len(tail)%len(b)-int(at)%64:], tail)
		}
		p := filepath.Join(t.TempDir(), "d")
		os.WriteFile(p, b, 0o600)
		d, err := Open(p)
		if err != nil {
			return
		}
		defer d.Close()
		buf := make([]byte, 4096)
		for _, r := range d.Ranges {
			d.ReadMemory(buf, r.VA+r.Size/2)
		}
	})
}
