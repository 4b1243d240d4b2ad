package control

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// pair returns the two ends of a connection.
func pair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := FromFD(fds[0]), FromFD(fds[1])
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// pipeFDs returns the two ends of a pipe, closed at the end of the test.
func pipeFDs(t *testing.T) []int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[:]
}

func TestConnMessages(t *testing.T) {
	big := Request{Op: OpExec, Env: []string{strings.Repeat("X", 3*smallMessage)}}
	tests := []struct {
		name     string
		sent     any // as passed to Send
		got      any // a pointer to receive into
		fds      bool
		wireKind byte // the first byte on the wire
	}{
		{"request", fullRequest, new(Request), false, kindRequest},
		{"response with descriptors", fullResponse, new(Response), true, kindResponse},
		{"by pointer", &fullResponse, new(Response), false, kindResponse},
		{"large", big, new(Request), true, bigMessage},
		{"json", Status{State: "RUNNING", CPUs: []int{1, 2}}, new(Status), false, '{'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pair(t)
			var fds []int
			if tt.fds {
				fds = pipeFDs(t)
			}
			if err := a.Send(tt.sent, fds...); err != nil {
				t.Fatal(err)
			}
			var first [1]byte
			if _, _, err := unix.Recvfrom(b.FD(), first[:], unix.MSG_PEEK); err != nil || first[0] != tt.wireKind {
				t.Errorf("message starts with %q (%v), want %q", first[0], err, tt.wireKind)
			}
			got, err := b.Recv(tt.got)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(fds) {
				t.Fatalf("received %d descriptors, want %d", len(got), len(fds))
			}
			for _, fd := range got {
				unix.Close(fd)
			}
			want := reflect.ValueOf(tt.sent)
			if want.Kind() == reflect.Pointer {
				want = want.Elem()
			}
			if g := reflect.ValueOf(tt.got).Elem().Interface(); !reflect.DeepEqual(g, want.Interface()) {
				t.Errorf("received %+v, want %+v", g, want.Interface())
			}
		})
	}
}

func TestConnRecvErrors(t *testing.T) {
	tests := []struct {
		name    string
		packets [][]byte // sent raw, the last with a descriptor
		want    string   // in the error
	}{
		{"garbage", [][]byte{{kindResponse, 7}}, "bad or truncated bool"},
		{"unannounced large", [][]byte{make([]byte, smallMessage+1)}, "unannounced message"},
		{"bad announcement", [][]byte{{bigMessage, 0x80}}, "bad large message announcement"},
		{"too large announced", [][]byte{{bigMessage, 0x80, 0x80, 0x80, 0x80, 0x01}}, "bad large message announcement"},
		{"announced size differs", [][]byte{{bigMessage, 0x80, 0x80, 0x08}, {kindResponse}}, "announced as"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pair(t)
			fd := pipeFDs(t)[0]
			for i, p := range tt.packets {
				var oob []byte
				if i == len(tt.packets)-1 {
					oob = unix.UnixRights(fd)
				}
				if err := unix.Sendmsg(a.FD(), p, oob, nil, 0); err != nil {
					t.Fatal(err)
				}
			}
			before := openFDs(t)
			var r Response
			fds, err := b.Recv(&r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Recv: %v, want an error with %q", err, tt.want)
			}
			if fds != nil || openFDs(t) != before {
				t.Errorf("the descriptor received with bad input was not closed")
			}
		})
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func TestConnClosed(t *testing.T) {
	a, b := pair(t)
	unix.Shutdown(a.FD(), unix.SHUT_WR)
	var r Response
	if _, err := b.Recv(&r); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Recv after the peer's hang-up: %v, want os.ErrClosed", err)
	}
}

// TestConnConcurrent has each end Send while it Recv-s (run with -race):
// the buffers are per call.
func TestConnConcurrent(t *testing.T) {
	a, b := pair(t)
	const n = 2000
	var wg sync.WaitGroup
	for _, c := range []*Conn{a, b} {
		wg.Go(func() {
			for i := range n {
				if err := c.Send(Request{Op: OpSignal, Signal: i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range n {
				var r Request
				if _, err := c.Recv(&r); err != nil || r.Signal != i {
					t.Errorf("message %d: %+v, %v", i, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
