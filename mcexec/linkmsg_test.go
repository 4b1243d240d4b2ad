package mcexec

import (
	"math"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/control/wiretest"
)

var linkCases = []struct {
	name string
	msg  wiretest.Message // a pointer to the message
	zero func() wiretest.Message
}{
	{"job", &forkJob{Token: math.MaxUint64, PGID: 4242, Cwd: "/home/ü/dir", Umask: 0o022,
		FDs: []int{0, 1, 2, 899}, CloExec: []int{899}, More: true,
		Profile: Profile{Enabled: true, JSONFile: "/tmp/profile.json"}}, func() wiretest.Message { return new(forkJob) }},
	{"empty job", &forkJob{}, func() wiretest.Message { return new(forkJob) }},
	{"idle", &proxyState{Idle: true}, func() wiretest.Message { return new(proxyState) }},
	{"busy", &proxyState{}, func() wiretest.Message { return new(proxyState) }},
}

func TestLinkMessages(t *testing.T) {
	for _, c := range linkCases {
		t.Run(c.name, func(t *testing.T) {
			wiretest.Check(t, c.msg, c.zero)
		})
	}
}

// TestLinkBinary checks that the link carries the messages binary.
func TestLinkBinary(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := control.FromFD(fds[0]), control.FromFD(fds[1])
	defer a.Close()
	defer b.Close()
	for _, c := range linkCases {
		if err := a.Send(reflect.ValueOf(c.msg).Elem().Interface()); err != nil {
			t.Fatal(err)
		}
		var first [1]byte
		if _, _, err := unix.Recvfrom(b.FD(), first[:], unix.MSG_PEEK); err != nil || first[0] == '{' {
			t.Errorf("%s: message starts with %q (%v), want its binary kind", c.name, first[0], err)
		}
		got := c.zero()
		if _, err := b.Recv(got); err != nil || !reflect.DeepEqual(got, c.msg) {
			t.Errorf("%s: received %+v (%v), want %+v", c.name, got, err, c.msg)
		}
	}
}
