package inspect

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// coreSeg is a PT_LOAD segment of a test core: data in the file, memsz
// in memory (more than len(data) where the dump left bytes out).
type coreSeg struct {
	vaddr, memsz uint64
	data         []byte
}

// Addresses of the test core's segments and mapped executable.
const (
	textAddr = 0x400000 // left out of the dump, as gcore does read-only file mappings
	dataAddr = 0x600000
	heapAddr = 0xc000000000
	entry    = textAddr + 0x1000
)

// testCore is an x86-64 ELF core as gcore writes one, small: notes with
// the pid, the auxiliary vector and the mapped files, a read-only segment
// with only its first bytes dumped, and two writable ones.
func testCore() []byte {
	pattern := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		return b
	}
	segs := []coreSeg{
		{textAddr, 0x2000, pattern(0x40, 1)},
		{dataAddr, 0x100, pattern(0x100, 2)},
		{heapAddr, 0x80, pattern(0x80, 3)},
	}
	le := binary.LittleEndian
	prpsinfo := make([]byte, 136)
	le.PutUint32(prpsinfo[24:], 4242)
	auxv := le.AppendUint64(le.AppendUint64(nil, elfinfoAtEntry), entry)
	auxv = append(auxv, make([]byte, 16)...) // AT_NULL
	file := le.AppendUint64(le.AppendUint64(nil, 1), 4096)
	file = le.AppendUint64(le.AppendUint64(le.AppendUint64(file, textAddr), textAddr+0x2000), 0)
	file = append(file, "/opt/gomck/bin/mckernel\x00"...)
	var notes []byte
	for _, n := range []struct {
		typ  uint32
		desc []byte
	}{{3, prpsinfo}, {6, auxv}, {0x46494c45, file}} {
		notes = le.AppendUint32(notes, 5)
		notes = le.AppendUint32(notes, uint32(len(n.desc)))
		notes = le.AppendUint32(notes, n.typ)
		notes = append(notes, "CORE\x00\x00\x00\x00"...)
		notes = append(notes, n.desc...)
		notes = append(notes, make([]byte, -len(n.desc)&3)...)
	}

	const ehsize, phentsize = 64, 56
	off := uint64(ehsize + phentsize*(1+len(segs)))
	progs := []elf.Prog64{{Type: uint32(elf.PT_NOTE), Off: off, Filesz: uint64(len(notes)), Align: 4}}
	off += uint64(len(notes))
	for _, s := range segs {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: off,
			Vaddr: s.vaddr, Filesz: uint64(len(s.data)), Memsz: s.memsz, Align: 4096})
		off += uint64(len(s.data))
	}
	hdr := elf.Header64{Type: uint16(elf.ET_CORE), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: ehsize, Ehsize: ehsize, Phentsize: phentsize, Phnum: uint16(len(progs)), Shentsize: 64}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var b bytes.Buffer
	binary.Write(&b, le, hdr)
	binary.Write(&b, le, progs)
	b.Write(notes)
	for _, s := range segs {
		b.Write(s.data)
	}
	return b.Bytes()
}

// elfinfoAtEntry is elfinfo.AtEntry, spelled out so that the test core is
// written from the ELF and core(5) formats, not from the code under test.
const elfinfoAtEntry = 9

func writeCore(t testing.TB, dir string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, "core")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenCore(t *testing.T) {
	c, err := OpenCore(writeCore(t, t.TempDir(), testCore()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PID != 4242 || c.Executable() != "/opt/gomck/bin/mckernel" {
		t.Errorf("pid %d, executable %q", c.PID, c.Executable())
	}
	for _, tc := range []struct {
		name    string
		addr    uint64
		n       int
		want    byte // the first byte, when it reads
		wantErr bool
	}{
		{"dumped text", textAddr, 0x40, 1, false},
		{"text left out", textAddr + 0x40, 1, 0, true},
		{"text, partly left out", textAddr + 0x3f, 2, 0, true},
		{"data", dataAddr + 0x10, 0xf0, 2 + 0x10*7, false},
		{"across the end of data", dataAddr + 0xff, 2, 0, true},
		{"heap", heapAddr, 0x80, 3, false},
		{"unmapped", 0x1000, 8, 0, true},
		{"top of the address space", ^uint64(0), 8, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, tc.n)
			n, err := c.ReadMemory(buf, tc.addr)
			if (err != nil) != tc.wantErr || n > tc.n || err == nil && (n != tc.n || buf[0] != tc.want) {
				t.Errorf("ReadMemory(%d at %#x) = %d, %v; first byte %d", tc.n, tc.addr, n, err, buf[0])
			}
		})
	}
}

// TestTruncatedCore cuts the test core short inside each of its parts:
// opening it fails, or a read of what was cut off fails, and every read
// that succeeds reads the bytes the whole core has.
func TestTruncatedCore(t *testing.T) {
	whole := testCore()
	dir := t.TempDir()
	full, err := OpenCore(writeCore(t, dir, whole))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	const phdrs, notes = 64, 64 + 56*4
	for _, tc := range []struct {
		name  string
		size  int
		opens bool
	}{
		{"empty", 0, false},
		{"in the ELF header", 20, false},
		{"in the program headers", phdrs + 60, false},
		{"in the notes", notes + 40, false},
		{"in the text segment", len(whole) - 0x80 - 0x100 - 0x20, true},
		{"in the data segment", len(whole) - 0x80 - 0x80, true},
		{"last byte", len(whole) - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := OpenCore(writeCore(t, dir, whole[:tc.size]))
			if (err == nil) != tc.opens {
				t.Fatalf("OpenCore: %v", err)
			}
			if err != nil {
				return
			}
			defer c.Close()
			for _, addr := range []uint64{textAddr, textAddr + 0x30, dataAddr, dataAddr + 0xf0, heapAddr, heapAddr + 0x70} {
				got, want := make([]byte, 0x10), make([]byte, 0x10)
				n, err := c.ReadMemory(got, addr)
				_, wantErr := full.ReadMemory(want, addr)
				if err == nil && (wantErr != nil || !bytes.Equal(got, want)) || n > len(got) || err == nil && n != len(got) {
					t.Errorf("read at %#x: %d bytes, %v; whole core: %v", addr, n, err, wantErr)
				}
				if addr >= dataAddr && addr < heapAddr && tc.size < len(whole)-0x80-0x80 && err == nil {
					t.Errorf("read at %#x of a segment cut off succeeded", addr)
				}
			}
		})
	}
}

// TestCorruptCore opens cores whose program headers lie: a size or an
// offset past the file, or a note segment too big to be one. Each is
// refused, or reads what it can and fails past that.
func TestCorruptCore(t *testing.T) {
	const notes, data = 64, 64 + 56*2 // program headers
	const off, vaddr, filesz, memsz = 8, 16, 32, 40
	le := binary.LittleEndian
	for _, tc := range []struct {
		name     string
		phdr     int
		field    int
		v        uint64
		openErr  string // "" if it opens
		readAddr uint64 // a read of 16 bytes there must fail
	}{
		{"notes of 1 TiB", notes, filesz, 1 << 40, "note segment of 1099511627776 bytes", 0},
		{"notes past the end", notes, off, 1 << 20, "read notes", 0},
		{"data past the end", data, off, 1 << 20, "", dataAddr},
		{"data bigger than the file", data, filesz, 1 << 40, "", dataAddr + 0x100},
		{"data at the top of the address space", data, vaddr, ^uint64(0) - 0x10, "", ^uint64(0) - 0x8},
		{"data of 4 GiB, 256 bytes dumped", data, memsz, 1 << 32, "", dataAddr + 0x100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testCore()
			le.PutUint64(b[tc.phdr+tc.field:], tc.v)
			c, err := OpenCore(writeCore(t, t.TempDir(), b))
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("OpenCore: %v, want %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 16)
			if n, err := c.ReadMemory(buf, tc.readAddr); err == nil || n > len(buf) {
				t.Errorf("read at %#x: %d bytes, %v", tc.readAddr, n, err)
			}
			if _, err := c.ReadMemory(buf, heapAddr); err != nil {
				t.Errorf("the heap, intact, does not read: %v", err)
			}
		})
	}
}

// FuzzOpenCore opens corrupt cores: OpenCore fails or gives a Core whose
// reads return an error or len(buf) bytes, whatever the headers claim.
func FuzzOpenCore(f *testing.F) {
	whole := testCore()
	f.Add(whole)
	f.Add(whole[:len(whole)/2])
	f.Add(whole[:64+56*2])
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := OpenCore(writeCore(t, dir, b))
		if err != nil {
			return
		}
		defer c.Close()
		c.Executable()
		buf := make([]byte, 4096)
		for _, s := range c.segs[:min(len(c.segs), 16)] { // a core can have 65535
			for _, addr := range []uint64{s.Vaddr, s.Vaddr + s.Filesz - 1, s.Vaddr + s.Memsz - 1, s.Vaddr + s.Filesz - 8} {
				if n, err := c.ReadMemory(buf, addr); n > len(buf) || n < len(buf) && err == nil {
					t.Fatalf("read at %#x: %d bytes of %d, %v", addr, n, len(buf), err)
				}
			}
		}
	})
}
