package control

import (
	"encoding"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gomck/gomck/delegator/control/wiretest"
	"github.com/gomck/gomck/kernel/stats"
)

// fullRequest and fullResponse set every field, with the extremes of
// their ranges.
var (
	fullRequest = Request{Op: OpExec, Argv: []string{"a.out", "", "ü"}, Env: []string{"A=1", "B="},
		Exe: "/bin/a.out", Cred: [4]int{0, -1, math.MaxInt, math.MinInt}, HeapExtend: math.MaxUint64,
		ProxyPID: 12345, ParentPID: 1, Rlimits: [][2]uint64{{0, math.MaxUint64}, {1 << 20, 1 << 40}},
		Signal: 9, PID: -7, Token: 0xdeadbeefcafef00d, Profile: true, PPN: 4, LocalRank: -1}
	fullResponse = Response{OK: true, Error: "boom", Text: "text\n", PID: 42, ExitCode: -1, ExitSignal: 15,
		Ended: true, Segments: []Segment{{VA: 0x400000, Len: 4096, Off: 0}, {VA: math.MaxUint64, Len: 1, Off: 1 << 33}},
		Data: []byte(`{"x":1}`), Profile: &stats.ProfileReport{PID: 42, Exe: "/bin/a.out",
			Threads: []stats.ThreadProfile{{TID: 42, Syscalls: []stats.SyscallCount{{Nr: 39, Name: "getpid",
				Local: stats.Syscall{Calls: 1000, Ns: math.MaxUint64}}}}, {TID: 43}},
			Process: stats.ThreadProfile{TID: 42, Syscalls: []stats.SyscallCount{{Nr: 1, Name: "write",
				Offloaded: stats.Syscall{Calls: 2, Ns: 3}}}, Counters: stats.Counters{RunNs: 1, Switches: 2,
				Migrations: 3, PageFaults: 4, FutexWaits: 5, Signals: 6, LocalCalls: 7, LocalNs: 8, OffloadCalls: 9,
				OffloadNs: math.MaxUint64}}}}
)

// wireCases are the messages every wire test encodes.
var wireCases = []struct {
	name string
	msg  wiretest.Message // a pointer to the message
	zero func() wiretest.Message
}{
	{"request", &fullRequest, func() wiretest.Message { return new(Request) }},
	{"empty request", &Request{}, func() wiretest.Message { return new(Request) }},
	{"attach request", &Request{Op: OpAttach, Token: 1}, func() wiretest.Message { return new(Request) }},
	{"response", &fullResponse, func() wiretest.Message { return new(Response) }},
	{"empty response", &Response{}, func() wiretest.Message { return new(Response) }},
}

func encode(t testing.TB, m encoding.BinaryAppender) []byte {
	t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWire round-trips every case and checks that truncated, padded,
// mislabelled and garbled encodings fail to decode.
func TestWire(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			b := wiretest.Check(t, c.msg, c.zero)
			bad := map[string][]byte{
				"huge length": {b[0], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
				"long varint": append([]byte{b[0]}, strings.Repeat("\xff", 11)...),
			}
			for name, in := range bad {
				if err := c.zero().UnmarshalBinary(in); err == nil {
					t.Errorf("%s: no error", name)
				}
			}
		})
	}
	if err := new(Response).UnmarshalBinary([]byte{kindResponse, 2}); err == nil {
		t.Error("a response whose first bool is 2: no error")
	}
}

// TestWireGarbage decodes random bytes: never a panic, an error for a
// wrong kind, and what decodes encodes to something that decodes the same.
func TestWireGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		if len(b) > 0 && r.IntN(2) == 0 {
			b[0] = kindRequest + byte(r.IntN(2))*(kindResponse-kindRequest)
		}
		checkDecode(t, b)
	}
}

// checkDecode decodes b as each control type.
func checkDecode(t *testing.T, b []byte) {
	for _, m := range []wiretest.Message{new(Request), new(Response)} {
		err := m.UnmarshalBinary(b)
		if (len(b) == 0 || b[0] != kindRequest && b[0] != kindResponse) && err == nil {
			t.Fatalf("%x decoded as %T without its kind", b, m)
		}
		if err != nil {
			continue
		}
		again := reflect.New(reflect.TypeOf(m).Elem()).Interface().(wiretest.Message)
		if err := again.UnmarshalBinary(encode(t, m)); err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%x: decoded %+v, re-encoded decodes as %+v (%v)", b, m, again, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range wireCases {
		f.Add(encode(f, c.msg))
	}
	f.Fuzz(checkDecode)
}
