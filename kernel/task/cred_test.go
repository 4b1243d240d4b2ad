package task

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestProcStatusCred(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	c, err := ProcStatusCred(status)
	if err != nil {
		t.Fatal(err)
	}
	if c.UID != os.Getuid() || c.EUID != os.Geteuid() || c.GID != os.Getgid() || c.EGID != os.Getegid() {
		t.Errorf("ids %+v, want uid %d euid %d gid %d egid %d", c, os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid())
	}
	if c.Caps.Bounding == 0 {
		t.Errorf("no bounding set: %+v", c.Caps)
	}
	if _, err := ProcStatusCred([]byte("Name:\tx\nUid:\t0\t0\n")); err == nil {
		t.Error("a status without capabilities parsed")
	}
}

func root() Cred {
	all := uint64(1)<<(CapLast+1) - 1
	return Cred{Caps: Caps{Effective: all, Permitted: all, Bounding: all}}
}

// TestCredRules checks Linux's rules for the changes the tests on the LWK
// do not reach, from root and from an unprivileged user.
func TestCredRules(t *testing.T) {
	user := Cred{UID: 1000, EUID: 1000, SUID: 0, FSUID: 1000, GID: 100, EGID: 100, SGID: 100, FSGID: 100}
	tests := []struct {
		name string
		from Cred
		f    func(*Cred) unix.Errno
		want unix.Errno
		ids  [3]int // uid, euid, suid after
		eff  bool   // any effective capability after
		prm  bool
	}{
		{"root setuid", root(), func(c *Cred) unix.Errno { return c.SetUID(1000) }, 0, [3]int{1000, 1000, 1000}, false, false},
		{"root seteuid", root(), func(c *Cred) unix.Errno { return c.SetRESUID(-1, 1000, -1) }, 0, [3]int{0, 1000, 0}, false, true},
		{"keepcaps", func() Cred { c := root(); c.KeepCaps = true; return c }(),
			func(c *Cred) unix.Errno { return c.SetRESUID(1000, 1000, 1000) }, 0, [3]int{1000, 1000, 1000}, false, true},
		{"user to saved", user, func(c *Cred) unix.Errno { return c.SetUID(0) }, 0, [3]int{1000, 0, 0}, false, false},
		{"user to other", user, func(c *Cred) unix.Errno { return c.SetUID(2000) }, unix.EPERM, [3]int{1000, 1000, 0}, false, false},
		{"user setreuid swap", user, func(c *Cred) unix.Errno { return c.SetREUID(0, 1000) }, unix.EPERM, [3]int{1000, 1000, 0}, false, false},
		{"user setreuid", user, func(c *Cred) unix.Errno { return c.SetREUID(-1, 0) }, 0, [3]int{1000, 0, 0}, false, false},
		{"user setresuid", user, func(c *Cred) unix.Errno { return c.SetRESUID(0, 1000, 1000) }, 0, [3]int{0, 1000, 1000}, false, false},
		{"user setgroups", user, func(c *Cred) unix.Errno { return c.SetGroups([]int{1}) }, unix.EPERM, [3]int{1000, 1000, 0}, false, false},
		{"capset grow", user, func(c *Cred) unix.Errno { return c.SetCaps(1, 1, 0) }, unix.EPERM, [3]int{1000, 1000, 0}, false, false},
		{"capset effective beyond permitted", root(), func(c *Cred) unix.Errno { return c.SetCaps(3, 1, 0) }, unix.EPERM, [3]int{}, true, true},
		{"drop bound without setpcap", user, func(c *Cred) unix.Errno { return c.DropBound(1) }, unix.EPERM, [3]int{1000, 1000, 0}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.from
			if got := tc.f(&c); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if ids := [3]int{c.UID, c.EUID, c.SUID}; ids != tc.ids {
				t.Errorf("ids %v, want %v", ids, tc.ids)
			}
			if (c.Caps.Effective != 0) != tc.eff || (c.Caps.Permitted != 0) != tc.prm {
				t.Errorf("caps %+v, want effective %v permitted %v", c.Caps, tc.eff, tc.prm)
			}
		})
	}
}

func TestExecGivesRootItsBound(t *testing.T) {
	c := root()
	c.Caps.Effective, c.Caps.Permitted = 0, 0 // dropped by capset
	c.Exec()
	if c.Caps.Effective != c.Caps.Bounding || c.Caps.Permitted != c.Caps.Bounding {
		t.Errorf("after exec %+v", c.Caps)
	}
}
