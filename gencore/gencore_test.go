package gencore

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sample is a two-thread process with an anonymous area that has a hole,
// a file mapping and an area the filter leaves out.
func sample() *Core {
	page := func(b byte) []byte { return bytes.Repeat([]byte{b}, PageSize) }
	xs := make([]byte, 1088)
	xs[464] = 7 // XCR0: x87, SSE, AVX
	return &Core{
		Process: Process{PID: 5, PPID: 1, PGID: 5, SID: 5, UID: 1000, GID: 100, Name: "prog", Args: "prog -x", State: 'R'},
		Signal:  int(unix.SIGSEGV),
		Threads: []Thread{
			{TID: 6, Regs: unix.PtraceRegs{Rip: 0x401000, Rsp: 0x7ff000}, XState: xs, UTime: 1500 * time.Millisecond},
			{TID: 5, Regs: unix.PtraceRegs{Rip: 0x402000}},
		},
		Auxv: []uint64{6, PageSize, 0, 0},
		Areas: []Area{
			{Start: 0x400000, End: 0x402000, Prot: unix.PROT_READ | unix.PROT_EXEC, File: "/bin/prog", Offset: 0x1000, Dump: PageSize,
				Pages: []Pages{{Addr: 0x400000, Bytes: append(page(0x7f), page(1)...)}}},
			{Start: 0x600000, End: 0x604000, Prot: unix.PROT_READ | unix.PROT_WRITE, Dump: 0x4000,
				Pages: []Pages{{Addr: 0x600000, Bytes: page(2)}, {Addr: 0x603000, Bytes: page(3)}}},
			{Start: 0x700000, End: 0x701000, Prot: unix.PROT_READ, Pages: []Pages{{Addr: 0x700000, Bytes: page(4)}}},
		},
	}
}

func writeFile(t *testing.T, c *Core, limit int64) (string, Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "core")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Write(f, c, limit)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return path, res
}

// noteTypes lists the notes of a core's PT_NOTE segment.
func noteTypes(t *testing.T, f *elf.File) []uint32 {
	t.Helper()
	var types []uint32
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			t.Fatal(err)
		}
		for len(b) >= 12 {
			namesz, descsz := le.Uint32(b), le.Uint32(b[4:])
			types = append(types, le.Uint32(b[8:]))
			b = b[min(len(b), 12+pad4(int(namesz))+pad4(int(descsz))):]
		}
	}
	return types
}

func TestWriteLayout(t *testing.T) {
	c := sample()
	path, res := writeFile(t, c, NoLimit)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("debug/elf cannot read the core: %v", err)
	}
	defer f.Close()
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_X86_64 {
		t.Errorf("type %v machine %v", f.Type, f.Machine)
	}
	want := []uint32{ntPrstatus, ntPrpsinfo, ntSigInfo, ntAuxv, ntFile, ntFPRegset, ntX86XState, ntPrstatus, ntX86XSaveLayout}
	if got := noteTypes(t, f); !equal(got, want) {
		t.Errorf("notes %#x, want %#x", got, want)
	}
	if len(f.Progs) != 4 {
		t.Fatalf("%d program headers, want the note and 3 loads", len(f.Progs))
	}
	for i, a := range c.Areas {
		p := f.Progs[i+1]
		if p.Type != elf.PT_LOAD || p.Vaddr != a.Start || p.Memsz != a.End-a.Start || p.Filesz != a.Dump || p.Off%PageSize != 0 {
			t.Errorf("load %d: %+v for area %#x-%#x dump %#x", i, p.ProgHeader, a.Start, a.End, a.Dump)
		}
	}
	data, _ := io.ReadAll(f.Progs[2].Open())
	for i, want := range []byte{2, 0, 0, 3} {
		if data[i*PageSize] != want || data[i*PageSize+PageSize-1] != want {
			t.Errorf("anonymous area page %d starts with %d, want %d", i, data[i*PageSize], want)
		}
	}
	st, _ := os.Stat(path)
	if st.Size() != res.Size || res.Truncated {
		t.Errorf("file of %d bytes, result %+v", st.Size(), res)
	}
	var stat unix.Stat_t
	unix.Stat(path, &stat)
	if allocated := stat.Blocks * 512; allocated >= st.Size() {
		t.Errorf("holes not left: %d bytes allocated of %d", allocated, st.Size())
	}
}

func equal(a, b []uint32) bool { return bytes.Equal(words32(a), words32(b)) }

func words32(ws []uint32) []byte {
	b := make([]byte, 4*len(ws))
	for i, w := range ws {
		le.PutUint32(b[4*i:], w)
	}
	return b
}

// TestWritePipe: a stream gets the same bytes, holes as zeros.
func TestWritePipe(t *testing.T) {
	c := sample()
	path, _ := writeFile(t, c, NoLimit)
	want, _ := os.ReadFile(path)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	if _, err := Write(w, c, NoLimit); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("piped core differs from the file: %d bytes against %d", len(b), len(want))
	}
}

// TestWriteLimit: a limit counts the bytes written, not the holes, and
// cuts the core before the header, note or page that would pass it; what
// is left is a prefix of the whole core.
func TestWriteLimit(t *testing.T) {
	c := sample()
	path, full := writeFile(t, c, NoLimit)
	whole, _ := os.ReadFile(path)
	for _, limit := range []int64{0, 40, ehdrSize + 3*phdrSize, 1000, PageSize + 10, 3 * PageSize, full.Written - 1, full.Written} {
		path, res := writeFile(t, c, limit)
		b, _ := os.ReadFile(path)
		if int64(len(b)) != res.Size || res.Written > limit || res.Truncated != (limit < full.Written) {
			t.Errorf("limit %d: %d bytes, %+v (whole: %+v)", limit, len(b), res, full)
		}
		if !bytes.Equal(b, whole[:len(b)]) {
			t.Errorf("limit %d: not a prefix of the whole core", limit)
		}
	}
	if _, res := writeFile(t, c, ehdrSize+10); res.Size != ehdrSize {
		t.Errorf("a limit inside the program headers: %+v, want the ELF header alone", res)
	}
}

func TestWriteFullDisk(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if _, err := Write(f, sample(), NoLimit); err == nil {
		t.Error("no error writing to /dev/full")
	}
}

func TestFilter(t *testing.T) {
	const size = 10 * PageSize
	for _, tc := range []struct {
		name   string
		m      Mapping
		filter uint64
		want   uint64
	}{
		{"anon", Mapping{Anonymous: true, Written: true}, DefaultFilter, size},
		{"anon untouched", Mapping{Anonymous: true}, DefaultFilter, 0},
		{"anon filtered", Mapping{Anonymous: true, Written: true}, 0, 0},
		{"anon shared", Mapping{Anonymous: true, Shared: true}, DefaultFilter, size},
		{"anon shared filtered", Mapping{Anonymous: true, Shared: true}, FilterAnonPrivate, 0},
		{"file data", Mapping{Written: true}, DefaultFilter, size},
		{"file text", Mapping{ELFHeader: true}, DefaultFilter, PageSize},
		{"file text, no header bit", Mapping{ELFHeader: true}, FilterAnonPrivate, 0},
		{"file, private bit", Mapping{}, FilterFilePrivate, size},
		{"file, not ELF", Mapping{}, DefaultFilter, 0},
		{"file shared", Mapping{Shared: true}, DefaultFilter, 0},
		{"file shared bit", Mapping{Shared: true}, FilterFileShared, size},
		{"vdso", Mapping{Special: true}, 0, size},
	} {
		tc.m.Size = size
		if got := Filter(tc.m, tc.filter); got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, got, tc.want)
		}
	}
}

func TestExpand(t *testing.T) {
	in := PatternInfo{PID: 7, TID: 8, UID: 1000, GID: 100, Signal: 11, Time: time.Unix(1700000000, 0),
		Hostname: "node1", Comm: "a.out", Exe: "/home/u/a.out", Limit: 1 << 20, Dumpable: 1}
	for _, tc := range []struct {
		pattern string
		usesPID bool
		path    string
		argv    []string
	}{
		{"core", false, "core", nil},
		{"core", true, "core.7", nil},
		{"core.%p", true, "core.7", nil},
		{"%e.%p.%P.%i.%I.%u.%g.%s.%t.%h.%c.%d.%%", false, "a.out.7.7.8.8.1000.100.11.1700000000.node1.1048576.1.%", nil},
		{"/cores/%E-%e", false, "/cores/!home!u!a.out-a.out", nil},
		{"core%x%", false, "core", nil},
		{"|/usr/lib/handler %p %s %e\n", true, "", []string{"/usr/lib/handler", "7", "11", "a.out"}},
	} {
		path, argv := Expand(tc.pattern, tc.usesPID, in)
		if path != tc.path || len(argv) != len(tc.argv) {
			t.Errorf("%q: %q %q, want %q %q", tc.pattern, path, argv, tc.path, tc.argv)
			continue
		}
		for i := range argv {
			if argv[i] != tc.argv[i] {
				t.Errorf("%q: argv %q, want %q", tc.pattern, argv, tc.argv)
			}
		}
	}
	for name, want := range map[string]string{".": "!", "..": "!.", "": "!", "a/b": "a!b", ".x": ".x"} {
		in.Comm = name
		if got, _ := Expand("%e", false, in); got != want {
			t.Errorf("comm %q: %q, want %q", name, got, want)
		}
	}
}

// FuzzWrite feeds the writer areas and registers as an app could make
// them: it must not fail or panic, and the core must parse.
func FuzzWrite(f *testing.F) {
	f.Add(uint64(0x400000), uint64(0x2000), uint64(0x1000), uint64(0x400800), uint16(300), uint64(0x401000), int64(-1))
	f.Add(uint64(0), uint64(0), uint64(5), uint64(1), uint16(0), uint64(1<<63), int64(77))
	f.Fuzz(func(t *testing.T, start, size, dump, pageAt uint64, pageLen uint16, rip uint64, limit int64) {
		c := sample()
		end := start + size
		if end < start {
			end = start
		}
		c.Threads[0].Regs.Rip = rip
		c.Areas = append(c.Areas, Area{Start: start, End: end, Dump: dump, File: "/x", Offset: pageAt,
			Pages: []Pages{{Addr: pageAt, Bytes: make([]byte, pageLen)}, {Addr: start, Bytes: make([]byte, 3)}}})
		if limit < -1 {
			limit = -1
		}
		path := filepath.Join(t.TempDir(), "core")
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		res, err := Write(out, c, limit)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		if limit >= 0 && res.Written > limit {
			t.Fatalf("%d bytes written past the limit %d", res.Written, limit)
		}
		if res.Truncated {
			return
		}
		ef, err := elf.Open(path)
		if err != nil {
			t.Fatalf("core does not parse: %v", err)
		}
		ef.Close()
	})
}

func TestWriteAbort(t *testing.T) {
	c := sample()
	c.Abort = func() bool { return true }
	f, err := os.Create(filepath.Join(t.TempDir(), "core"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Write(f, c, NoLimit); err != ErrAborted {
		t.Errorf("Write with Abort: %v, want ErrAborted", err)
	}
}
