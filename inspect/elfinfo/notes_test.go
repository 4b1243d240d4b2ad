package elfinfo

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

var le = binary.LittleEndian

// note encodes one ELF note.
func note(name string, typ uint32, desc []byte) []byte {
	n := append([]byte(name), 0)
	b := le.AppendUint32(nil, uint32(len(n)))
	b = le.AppendUint32(b, uint32(len(desc)))
	b = le.AppendUint32(b, typ)
	b = append(b, n...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func fileNote(files []MappedFile) []byte {
	b := le.AppendUint64(nil, uint64(len(files)))
	b = le.AppendUint64(b, 4096)
	for _, f := range files {
		b = le.AppendUint64(b, f.Start)
		b = le.AppendUint64(b, f.End)
		b = le.AppendUint64(b, f.Offset/4096)
	}
	for _, f := range files {
		b = append(append(b, f.Path...), 0)
	}
	return b
}

func TestParseNotes(t *testing.T) {
	id := []byte{0xde, 0xad, 0xbe, 0xef, 1}
	b := append(note("GNU", NTGNUBuildID, id), note("CORE", NTAuxv, le.AppendUint64(le.AppendUint64(nil, AtEntry), 0x401000))...)
	notes, err := ParseNotes(b, le)
	if err != nil || len(notes) != 2 {
		t.Fatalf("ParseNotes: %v, %d notes", err, len(notes))
	}
	if d, ok := Find(notes, "GNU", NTGNUBuildID); !ok || string(d) != string(id) {
		t.Errorf("build id note %x, want %x", d, id)
	}
	auxv, _ := Find(notes, "CORE", NTAuxv)
	if v, ok := Auxv(auxv, le, AtEntry); !ok || v != 0x401000 {
		t.Errorf("AT_ENTRY %#x %v", v, ok)
	}
	for _, bad := range [][]byte{b[:5], b[:len(b)-8], {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}} {
		if _, err := ParseNotes(bad, le); err == nil {
			t.Errorf("ParseNotes(%x) accepted a truncated note", bad)
		}
	}
}

func TestParseFileNote(t *testing.T) {
	want := []MappedFile{{0x400000, 0x401000, 0, "/bin/mckernel"}, {0x401000, 0x500000, 0x1000, "/bin/mckernel"}, {0x7f00, 0x8f00, 0, "/memfd:mcos0 (deleted)"}}
	got, err := ParseFileNote(fileNote(want), le)
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParseFileNote: %v %+v", err, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("file %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	b := fileNote(want)
	for _, bad := range [][]byte{b[:10], b[:len(b)-1], le.AppendUint64(le.AppendUint64(nil, 1<<40), 4096)} {
		if _, err := ParseFileNote(bad, le); err == nil {
			t.Errorf("ParseFileNote accepted %d bad bytes", len(bad))
		}
	}
}

func TestPrpsinfoPID(t *testing.T) {
	b := make([]byte, 136)
	le.PutUint32(b[24:], 4242)
	if pid, ok := PrpsinfoPID(b, le); !ok || pid != 4242 {
		t.Errorf("pid %d %v", pid, ok)
	}
	if _, ok := PrpsinfoPID(b[:20], le); ok {
		t.Error("short prpsinfo accepted")
	}
}

// TestReadBuildID reads the test binary's own build id: Go's linker writes
// NT_GNU_BUILD_ID, and the id must be the one FileBuildID reports.
func TestReadBuildID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, addr, raw, err := ReadBuildID(f)
	if err != nil || id == "" || addr == 0 || len(raw) == 0 {
		t.Fatalf("ReadBuildID: %q %#x %d bytes, %v", id, addr, len(raw), err)
	}
	if strings.HasPrefix(string(id), "go:") {
		t.Logf("no GNU build id; Go's: %s", id)
	}
	if other, err := FileBuildID(exe); err != nil || other != id {
		t.Errorf("FileBuildID %q %v, want %q", other, err, id)
	}
}

func FuzzParseNotes(f *testing.F) {
	f.Add(note("GNU", NTGNUBuildID, []byte{1, 2, 3, 4}))
	f.Add(append(note("CORE", NTFile, fileNote([]MappedFile{{1, 2, 0, "/x"}})), note("Go", NTGoBuildID, []byte("abc/def"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		notes, _ := ParseNotes(b, le)
		for _, n := range notes {
			if len(n.Desc) > len(b) {
				t.Fatalf("note payload of %d bytes from %d", len(n.Desc), len(b))
			}
			Auxv(n.Desc, le, AtEntry)
			PrpsinfoPID(n.Desc, le)
		}
	})
}

func FuzzParseFileNote(f *testing.F) {
	f.Add(fileNote([]MappedFile{{0x400000, 0x401000, 0, "/bin/mckernel"}}))
	f.Add(fileNote(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ParseFileNote(b, le)
		if err == nil && len(files)*24 > len(b) {
			t.Fatalf("%d files from %d bytes", len(files), len(b))
		}
	})
}
