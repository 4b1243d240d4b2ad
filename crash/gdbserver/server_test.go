package gdbserver

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect/lwk"
)

// daemonMemory is a daemon's memory of one range: its direct map of
// the partition.
type daemonMemory struct {
	base uint64
	b    []byte
}

func (m *daemonMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base+uint64(len(buf)) > uint64(len(m.b)) {
		return 0, fmt.Errorf("%#x is not in the dump", addr)
	}
	return copy(buf, m.b[addr-m.base:]), nil
}

// The test process maps appBase to the partition's first page.
const (
	appBase = 0x400000
	direct  = 0x10000000
)

// testServer serves a process (pid 5) of two threads whose memory holds
// program headers, a dynamic section, r_debug and a link_map list naming
// one library.
func testServer(t testing.TB) *Server { return testServerSignalled(t, false) }

// testServerSignalled is testServer, with SIGUSR1 and SIGUSR2 pending
// for thread 6 if signal.
func testServerSignalled(t testing.TB, signal bool) *Server {
	mem := &daemonMemory{base: direct, b: make([]byte, 0x2000)}
	le := binary.LittleEndian
	put := func(va uint64, words ...uint64) {
		for i, w := range words {
			le.PutUint64(mem.b[va-appBase+uint64(8*i):], w)
		}
	}
	phdr := func(va uint64, typ uint32, vaddr, memsz uint64) {
		b := mem.b[va-appBase:]
		le.PutUint32(b, typ)
		le.PutUint64(b[16:], vaddr)
		le.PutUint64(b[40:], memsz)
	}
	phdr(appBase+0x40, 6, 0x40, 2*phdrSize)     // PT_PHDR: the bias is appBase
	phdr(appBase+0x40+phdrSize, 2, 0x200, 0x30) // PT_DYNAMIC
	put(appBase+0x200, 21, appBase+0x300, 0, 0) // DT_DEBUG, DT_NULL
	put(appBase+0x300, 1, appBase+0x400)        // r_debug
	put(appBase+0x400, appBase, appBase+0x600, appBase+0x200, appBase+0x500, 0)
	put(appBase+0x500, 0x7000, appBase+0x610, 0x7100, 0, appBase+0x400)
	copy(mem.b[0x610:], "/lib/libc.so.6\x00")
	copy(mem.b[0x700:], "eclair test\x00")

	fp := make([]byte, 832)
	le.PutUint16(fp[0:], 0x27f)                     // fctrl
	le.PutUint64(fp[xsXMM:], math.Float64bits(1.5)) // xmm0
	le.PutUint64(fp[xsHeader:], 3)                  // x87 and SSE, no AVX
	fp[xsYMMHi] = 0xff                              // stale: AVX is in its initial state
	regs := func(rip uint64) map[string]uint64 {
		return map[string]uint64{"Rip": rip, "Rsp": appBase + 0x800, "Orig_rax": 0, "Eflags": 0x246}
	}
	snap := &lwk.Snapshot{Source: "test", Direct: direct, MemTotal: uint64(len(mem.b)), Kmsg: "booted\n",
		CPUs: []lwk.CPU{{Index: 0, State: "running", Current: 5}},
		Procs: []lwk.Process{{PID: 5, Exe: "/bin/eclair-test-program", Auxv: []uint64{3, appBase + 0x40, 5, 2, 0, 0},
			VMAs: []lwk.VMA{{Start: appBase, End: appBase + 0x2000, Kind: "elf", Segs: []lwk.Segment{{VA: appBase, Len: 0x2000, Off: 0}}}},
			Threads: []lwk.Thread{{TID: 5, PID: 5, State: "R", Why: "running", Current: true, Regs: regs(0x401000), FPState: fp, Syscall: -1},
				{TID: 6, PID: 5, State: "S", Why: "sleeping", Regs: regs(0x401234), Syscall: 202, SyscallName: "futex"}}}}}
	if signal {
		snap.Procs[0].Threads[1].Pending = 1<<(10-1) | 1<<(12-1) // SIGUSR1 and SIGUSR2
	}
	s, err := New(mem, snap)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hexWord(v uint64, n int) string {
	b := binary.LittleEndian.AppendUint64(nil, v)
	return hex.EncodeToString(b[:n])
}

// regnum is a register's remote number.
func regnum(t *testing.T, name string) int {
	for i, r := range registers {
		if r.name == name {
			return i
		}
	}
	t.Fatalf("no register %s", name)
	return 0
}

// TestHandle runs packet sequences through a server, checking the
// reply to the last.
func TestHandle(t *testing.T) {
	p := func(name string) string { return fmt.Sprintf("p%x", regnum(t, name)) }
	xmm0 := hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5))) + strings.Repeat("0", 16)
	for _, tc := range []struct {
		name    string
		packets []string
		want    string // the whole reply, or with a trailing "*" its start, or with a leading "*" a part
	}{
		{"supported", []string{"qSupported:multiprocess+;xmlRegisters=i386"}, "*qXfer:libraries-svr4:read+"},
		{"stop reply names the current thread", []string{"?"}, "T05thread:5;core:0;"},
		{"thread list", []string{"qfThreadInfo"}, "m5,6"},
		{"thread list end", []string{"qfThreadInfo", "qsThreadInfo"}, "l"},
		{"current thread", []string{"qC"}, "QC5"},
		{"Hg selects", []string{"Hg6", "qC"}, "QC6"},
		{"Hg of no thread", []string{"Hg99"}, "E.no LWK thread 153"},
		{"Hg0 keeps", []string{"Hg6", "Hg0", "qC"}, "QC6"},
		{"alive", []string{"T6"}, "OK"},
		{"dead", []string{"T7"}, "E.*"},
		{"rip", []string{p("rip")}, hexWord(0x401000, 8)},
		{"rip of the selected thread", []string{"Hg6", p("rip")}, hexWord(0x401234, 8)},
		{"eflags is 32 bits", []string{p("eflags")}, hexWord(0x246, 4)},
		{"missing register unavailable", []string{p("rax")}, "xxxxxxxxxxxxxxxx"},
		{"fctrl", []string{p("fctrl")}, hexWord(0x27f, 4)},
		{"fctrl without an XSAVE area", []string{"Hg6", p("fctrl")}, hexWord(0x37f, 4)},
		{"ftag all empty", []string{p("ftag")}, hexWord(0xffff, 4)},
		{"xmm0", []string{p("xmm0")}, xmm0},
		{"ymm0h in its initial state", []string{p("ymm0h")}, strings.Repeat("0", 32)},
		{"no such register", []string{"p999"}, "E.*"},
		{"memory", []string{"m400700,b"}, hex.EncodeToString([]byte("eclair test"))},
		{"memory cut at the mapping's end", []string{"m401ffe,10"}, "0000"},
		{"unmapped memory", []string{"m900000,4"}, "E0e"},
		{"binary memory", []string{"x400700,6"}, "beclair"},
		{"binary unmapped", []string{"x900000,4"}, "E0e"},
		{"bad m", []string{"mzz"}, "E0e"},
		{"write memory", []string{"M400700,1:00"}, "E.writing memory refused*"},
		{"binary write", []string{"X400700,0:"}, "E.writing memory refused*"},
		{"write register", []string{"P10=0000000000000000"}, "E.writing registers refused*"},
		{"breakpoint", []string{"Z0,401000,1"}, "E.setting breakpoints refused*"},
		{"continue", []string{"c"}, "E.resuming refused*"},
		{"vCont continue", []string{"vCont;c"}, "E.resuming refused*"},
		{"vCont probe", []string{"vCont?"}, "vCont;t"},
		{"attached", []string{"qAttached"}, "1"},
		{"unknown", []string{"qWhatever"}, ""},
		{"target description", []string{"qXfer:features:read:target.xml:0,5"}, "m<?xml"},
		{"target description end", []string{fmt.Sprintf("qXfer:features:read:target.xml:%x,10", len(descBase.xml))}, "l"},
		{"other description", []string{"qXfer:features:read:avx.xml:0,100"}, "E.*"},
		{"threads", []string{"qXfer:threads:read::0,1000"}, `*<thread id="6" core="0" name="eclair-test-pro">pid 5, sleeping in futex</thread>`},
		{"libraries", []string{"qXfer:libraries-svr4:read::0,1000"}, `*main-lm="0x400400">` + "\n" + `<library name="/lib/libc.so.6" lm="0x400500" l_addr="0x7000" l_ld="0x7100" lmid="0x400300"/>`},
		{"auxv", []string{"qXfer:auxv:read::0,1000"}, "l\x03\x00\x00\x00\x00\x00\x00\x00@\x00@*"},
		{"exec-file", []string{"qXfer:exec-file:read::0,100"}, "l/bin/eclair-test-program"},
		{"exec-file of pid 5", []string{"qXfer:exec-file:read:5:0,100"}, "l/bin/eclair-test-program"},
		{"exec-file of no process", []string{"qXfer:exec-file:read:9:0,100"}, "E.*"},
		{"xfer write", []string{"qXfer:threads:write::0:00"}, "E.writing threads refused*"},
		{"extra info", []string{"qThreadExtraInfo,5"}, hex.EncodeToString([]byte("pid 5, running"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t)
			var got []byte
			for _, pkt := range tc.packets {
				got, _ = s.handle([]byte(pkt))
			}
			ok := string(got) == tc.want
			switch {
			case strings.HasSuffix(tc.want, "*"):
				ok = strings.HasPrefix(string(got), strings.TrimSuffix(tc.want, "*"))
			case strings.HasPrefix(tc.want, "*"):
				ok = strings.Contains(string(got), strings.TrimPrefix(tc.want, "*"))
			}
			if !ok {
				t.Errorf("%q: reply %q, want %q", tc.packets, got, tc.want)
			}
		})
	}
}

// TestStopThread: gdb starts in the thread that got a signal, with the
// first of them, in gdb's numbering (SIGUSR1 is 30).
func TestStopThread(t *testing.T) {
	s := testServerSignalled(t, true)
	if got, _ := s.handle([]byte("?")); string(got) != "T1ethread:6;core:0;" {
		t.Errorf("stop reply %q, want thread 6 stopped by SIGUSR1 (gdb's 30)", got)
	}
	if err := s.Focus(5); err != nil {
		t.Fatal(err)
	}
	if err := s.Focus(7); err == nil {
		t.Error("focused on a process that is not there")
	}
	for sig, want := range map[int]int{7: 10, 10: 30, 11: 11, 17: 20, 19: 17, 34: 46, 64: 0} {
		if got := gdbSignal(sig); got != want {
			t.Errorf("gdbSignal(%d) = %d, want %d", sig, got, want)
		}
	}
}

// TestRegisters checks that each target description numbers the
// registers as g lays them out, with the features gdb requires, and that
// a thread whose XSAVE area covers AVX-512 gets the description with it.
func TestRegisters(t *testing.T) {
	base := []string{featCore, featSSE, featLinux, featSegments, featAVX}
	avx512 := append(base[:len(base):len(base)], featAVX512)
	for _, tc := range []struct {
		name     string
		xcr0     uint64
		size     int
		layout   avx512Layout
		features []string
	}{
		{"AVX", 0x7, 832, avx512Layout{}, base},
		{"AVX-512, Intel's layout (with PKRU)", 0xe7, avx512Intel.end() + 8, avx512Intel, avx512},
		{"AVX-512, AMD's layout", 0xe7, avx512AMD.end(), avx512AMD, avx512},
		{"AVX-512 in a short area", 0xe7, 1000, avx512Layout{}, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t)
			fp := s.threads[0].FPState
			fp = append(fp, make([]byte, max(0, tc.size-len(fp)))...)[:tc.size]
			binary.LittleEndian.PutUint64(fp[xsXCR0:], tc.xcr0)
			if tc.layout.opmask != 0 {
				binary.LittleEndian.PutUint64(fp[tc.layout.opmask+8:], 0x1234) // k1
				binary.LittleEndian.PutUint64(fp[xsHeader:], 0xe3)
			}
			s.threads[0].FPState = fp
			s, err := New(s.mem, s.snap)
			if err != nil {
				t.Fatal(err)
			}
			checkDescription(t, s, tc.features)
			if slices.Contains(tc.features, featAVX512) {
				if k1, _ := s.handle([]byte(fmt.Sprintf("p%x", len(registers)+32+1))); string(k1) != hexWord(0x1234, 8) {
					t.Errorf("k1 = %s, want 0x1234", k1)
				}
			}
		})
	}
}

// checkDescription checks s's target description against its g reply.
func checkDescription(t *testing.T, s *Server, features []string) {
	t.Helper()
	var desc struct {
		Arch     string `xml:"architecture"`
		Features []struct {
			Name string `xml:"name,attr"`
			Regs []struct {
				Name    string `xml:"name,attr"`
				Bitsize int    `xml:"bitsize,attr"`
				Regnum  int    `xml:"regnum,attr"`
			} `xml:"reg"`
		} `xml:"feature"`
	}
	doc, _ := s.handle([]byte("qXfer:features:read:target.xml:0,10000"))
	if err := xml.Unmarshal(doc[1:], &desc); err != nil {
		t.Fatalf("target.xml: %v", err)
	}
	n, bits := 0, 0
	var got []string
	for _, f := range desc.Features {
		got = append(got, f.Name)
		for _, r := range f.Regs {
			if r.Regnum != n || r.Name != s.desc.regs[n].name {
				t.Errorf("register %d of the description is %s (regnum %d), want %s", n, r.Name, r.Regnum, s.desc.regs[n].name)
			}
			n++
			bits += r.Bitsize
		}
	}
	if !slices.Equal(got, features) || desc.Arch != "i386:x86-64" {
		t.Errorf("features %q of %s, want %q of i386:x86-64", got, desc.Arch, features)
	}
	if g, _ := s.handle([]byte("g")); len(g) != bits/4 {
		t.Errorf("g reply of %d hex digits, the description's registers have %d bits", len(g), bits)
	}
}

// TestShortAreas: an XSAVE area of any length (a corrupt dump) gives
// every register a value, never a read past its end.
func TestShortAreas(t *testing.T) {
	full := make([]byte, avx512Intel.end()+64)
	for i := range full {
		full[i] = byte(i*7 + 1)
	}
	binary.LittleEndian.PutUint64(full[xsXCR0:], 0xe7)
	th := &lwk.Thread{Regs: map[string]uint64{}}
	for n := 0; n <= len(full); n += 3 {
		th.FPState = full[:n]
		for _, r := range slices.Concat(descAVX512Intel.regs, descAVX512AMD.regs) {
			if v, _ := regValue(r, th); len(v) != r.bits/8 {
				t.Fatalf("area of %d bytes: %s is %d bytes, want %d", n, r.name, len(v), r.bits/8)
			}
		}
	}
}

func TestFullTag(t *testing.T) {
	xs := make([]byte, 512)
	one := []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f} // 1.0
	for _, tc := range []struct {
		top      int
		abridged byte
		st0      []byte
		want     uint16
	}{
		{0, 0, nil, 0xffff},
		{7, 0x80, one, 0x3fff},              // ST0 is physical 7: valid
		{7, 0x80, make([]byte, 10), 0x7fff}, // zero
		{0, 0x01, []byte{0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f}, 0xfffe}, // NaN: special
	} {
		clear(xs)
		binary.LittleEndian.PutUint16(xs[xsFSW:], uint16(tc.top)<<11)
		xs[xsFTW] = tc.abridged
		copy(xs[xsST:], tc.st0)
		if got := fullTag(xs); got != tc.want {
			t.Errorf("top %d abridged %#x: tag %#x, want %#x", tc.top, tc.abridged, got, tc.want)
		}
	}
}

// frame is a packet as gdb sends it.
func frame(payload string) string {
	body := escape([]byte(payload))
	return fmt.Sprintf("$%s#%02x", body, checksum(body))
}

// TestServe runs a session as gdb would: acknowledged packets until
// no-ack mode, a monitor command whose output comes in O packets, and a
// detach that ends it.
func TestServe(t *testing.T) {
	in := frame("qSupported") + "+" + frame("QStartNoAckMode") + "+" + frame("qRcmd,"+hex.EncodeToString([]byte("ps"))) +
		frame("qRcmd,"+hex.EncodeToString([]byte("frobnicate"))) + frame("D")
	var out bytes.Buffer
	s := testServer(t)
	if err := s.Serve(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(in), &out}); err != nil {
		t.Fatal(err)
	}
	var replies []string
	for rest := out.String(); rest != ""; {
		if rest[0] == '+' {
			rest = rest[1:]
			continue
		}
		end := strings.IndexByte(rest, '#')
		if rest[0] != '$' || end < 0 || end+3 > len(rest) {
			t.Fatalf("bad output from %q", rest)
		}
		var sum [2]byte
		copy(sum[:], rest[end+1:])
		p, err := decodeFrame([]byte(rest[1:end]), sum)
		if err != nil {
			t.Fatalf("reply %q: %v", rest[:end+3], err)
		}
		if p[0] == 'O' && string(p) != "OK" {
			text, _ := hex.DecodeString(string(p[1:]))
			p = append([]byte("O:"), text...)
		}
		replies = append(replies, string(p))
		rest = rest[end+3:]
	}
	all := strings.Join(replies, "\n")
	for _, want := range []string{"PacketSize=4000", "O:CPU ", " >0    5    5 ", `eclair: no monitor command "frobnicate"`, "\nOK"} {
		if !strings.Contains(all, want) {
			t.Errorf("session replies lack %q:\n%s", want, all)
		}
	}
	if !strings.HasSuffix(all, "OK") {
		t.Errorf("the session did not end with D's OK:\n%s", all)
	}
}

func TestDecodeFrame(t *testing.T) {
	for _, tc := range []struct {
		frame, sum, want string
		ok               bool
	}{
		{"OK", "9a", "OK", true},
		{"OK", "9b", "", false},
		{"OK", "zz", "", false},
		{"}\x03", "", "#", true}, // an escaped '#'
		{"}", "", "", false},
		{"0* ", "", "0000", true}, // run-length: 3 more
		{"*!", "", "", false},
		{"0*\x01", "", "", false},
	} {
		sum := tc.sum
		if sum == "" {
			sum = fmt.Sprintf("%02x", checksum([]byte(tc.frame)))
		}
		var s [2]byte
		copy(s[:], sum)
		got, err := decodeFrame([]byte(tc.frame), s)
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("decodeFrame(%q, %s) = %q, %v; want %q (ok %v)", tc.frame, sum, got, err, tc.want, tc.ok)
		}
	}
}

// TestLibrariesCorrupt: a link_map list that does not link back, or
// that cannot be read, is refused, not walked on.
func TestLibrariesCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   uint64 // app address of the word to spoil
		want string
	}{
		{"l_prev", appBase + 0x500 + lPrevOff, "a corrupt list"},
		{"l_next", appBase + 0x400 + lNextOff, "not mapped"},
		{"r_map", appBase + 0x300 + rMapOff, "not mapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t)
			binary.LittleEndian.PutUint64(s.mem.(*daemonMemory).b[tc.at-appBase:], 0x900000)
			got, _ := s.handle([]byte("qXfer:libraries-svr4:read::0,1000"))
			if !strings.HasPrefix(string(got), "E.") || !strings.Contains(string(got), tc.want) {
				t.Errorf("reply %q, want an error saying %q", got, tc.want)
			}
		})
	}
}
