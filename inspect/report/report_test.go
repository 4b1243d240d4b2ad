package report

import (
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect/lwk"
)

func TestParseColumns(t *testing.T) {
	for _, tc := range []struct {
		spec, want string // want: headers joined by space, or "error"
	}{
		{"tid,pid,st,exe", "TID PID ST EXE"},
		{"TID PID  stat comm", "TID PID ST EXE"},
		{"%mem,pmem,rss,vsz,time", "%MEM %MEM RSS VSZ TIME"},
		{"pid=PROCESS,wchan", "PROCESS SYSCALL"},
		{McKernel, "CPU TID PID ST EXE"},
		{"tid,bogus", "error"},
		{" , ", "error"},
	} {
		cols, err := ParseColumns(tc.spec)
		var got []string
		for _, c := range cols {
			got = append(got, c.Name)
		}
		if g := strings.Join(got, " "); err != nil && tc.want != "error" || err == nil && g != tc.want {
			t.Errorf("ParseColumns(%q) = %q, %v; want %q", tc.spec, g, err, tc.want)
		}
	}
}

func TestCPUTime(t *testing.T) {
	for ns, want := range map[uint64]string{0: "0:00.00", 1234e8: "2:03.40", 3601e9: "60:01.00"} {
		if got := cpuTime(ns); got != want {
			t.Errorf("cpuTime(%d) = %q, want %q", ns, got, want)
		}
	}
}

// snapshot is an instance with one idle CPU, one CPU running a thread of
// a process with a second, runnable thread, and a thread whose record kept
// changing; and a process whose record kept changing.
func snapshot() *lwk.Snapshot {
	return &lwk.Snapshot{
		MemTotal: 1 << 20,
		CPUs:     []lwk.CPU{{Index: 0}, {Index: 1, Current: 11}},
		Procs: []lwk.Process{{PID: 10, PPID: 9, Exe: "/a.out", RSS: 256 << 10, VSZ: 1 << 20, Threads: []lwk.Thread{
			{TID: 12, CPU: 1, State: "R", Syscall: -1},
			{TID: 11, CPU: 1, State: "R", Current: true, Syscall: 0, SyscallName: "read", LocalCalls: 3, OffloadCalls: 2, RunNs: 15e6},
			{CPU: 1, Changing: true},
		}}, {Changing: true}},
	}
}

func TestWrite(t *testing.T) {
	cols, _ := ParseColumns(Default)
	var b strings.Builder
	if err := Write(&b, Rows(snapshot(), 0), cols); err != nil {
		t.Fatal(err)
	}
	want := `
CPU  TID  PID  PPID  ST  RSS   VSZ  %MEM     TIME  LOCAL  OFFLOAD  SYSCALL  EXE
 >0    -    -     -  -     -     -     -        -      -        -  -        (idle)
 >1   11   10     9  R   256  1024  25.0  0:00.01      3        2  read     /a.out
  1    ?    ?     9  ?   256  1024  25.0        -      ?        ?  -        (changing)
  1   12   10     9  R   256  1024  25.0  0:00.00      0        0  -        /a.out
  ?    ?    ?     ?  ?     ?     ?     -        -      ?        ?  -        (changing)
`[1:]
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if rows := Rows(snapshot(), 10); len(rows) != 3 || rows[0].T.TID != 11 {
		t.Errorf("-p 10: %d rows, first %+v", len(rows), rows[0])
	}
	js := JSON(Rows(snapshot(), 0), cols)
	if js[0]["exe"] != "(idle)" || js[0]["tid"] != nil || js[1]["syscall"] != "read" || js[2]["changing"] != true || js[4]["changing"] != true || js[4]["cpu"] != -1 {
		t.Errorf("JSON rows %v", js)
	}
}

func FuzzParseColumns(f *testing.F) {
	f.Add(Default)
	f.Add("pid=X,,tid st")
	f.Fuzz(func(t *testing.T, spec string) {
		cols, err := ParseColumns(spec)
		if err == nil && len(cols) == 0 {
			t.Fatal("no columns and no error")
		}
		for _, c := range cols {
			c.Cell(Row{CPU: lwk.CPU{Changing: true}})
		}
	})
}

func TestWriteHex(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr uint64
		b    []byte
		want string
	}{
		{"nothing", 0x1000, nil, ""},
		{"a short line", 0x601ff8, []byte("gomck\x00\x7f~"), "601ff8:  67 6f 6d 63 6b 00 7f 7e                           gomck..~\n"},
		{"a line and a byte", 0x7f0000001000, []byte("0123456789abcdef\n"),
			"7f0000001000:  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef\n" +
				"7f0000001010:  0a                                                .\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteHex(&b, tc.addr, tc.b); err != nil || b.String() != tc.want {
				t.Errorf("WriteHex:\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}
