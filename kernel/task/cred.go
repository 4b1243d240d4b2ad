package task

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// Cred are a process's credentials, taken from mcexec at creation and
// changed by the setuid family, setgroups, capset and prctl under Linux's
// rules (the rules are here, the system calls in kernel/syscalls).
// Linux keeps them per thread and glibc changes all threads' at once; the
// LWK keeps them per process. mcexec's workers take them on before each
// offloaded call (ikc.Cred), so that Linux checks the app's rights.
type Cred struct {
	UID, EUID, SUID, FSUID int
	GID, EGID, SGID, FSGID int
	Groups                 []int
	Caps                   Caps
	KeepCaps, NoNewPrivs   bool
	// Gen counts the changes since the process began: mcexec's workers
	// apply the credentials of a process whose Gen is not 0.
	Gen uint64
}

// Caps are the capability sets, one bit per capability.
type Caps struct {
	Effective, Permitted, Inheritable, Bounding, Ambient uint64
}

// Capabilities the rules test, and CapLast, the last Linux knows here.
const (
	CapChown   = 0
	CapSetGID  = 6
	CapSetUID  = 7
	CapSetPCap = 8
	CapLast    = 40 // CAP_CHECKPOINT_RESTORE
	capFSMask  = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<9 | 1<<27 | 1<<32
	noChange   = -1 // an id argument that keeps the id (as (uid_t)-1)
)

// MaxGroups bounds the supplementary groups: what mcexec's channel
// carries (ikc.MaxGroups); Linux allows 65536.
const MaxGroups = ikc.MaxGroups

// Capable says the effective set has capability cap.
func (c *Cred) Capable(cap int) bool { return c.Caps.Effective&(1<<cap) != 0 }

// The setuid family's rules are the same for the user and the group ids
// (idSet), under CAP_SETUID and CAP_SETGID; only a uid change adjusts the
// capabilities (fixCaps).

// SetUID is setuid(2).
func (c *Cred) SetUID(uid int) unix.Errno {
	return c.changeUIDs(func(u idSet, priv bool) unix.Errno { return u.setID(uid, priv) })
}

// SetREUID is setreuid(2).
func (c *Cred) SetREUID(r, e int) unix.Errno {
	return c.changeUIDs(func(u idSet, priv bool) unix.Errno { return u.setRE(r, e, priv) })
}

// SetRESUID is setresuid(2).
func (c *Cred) SetRESUID(r, e, s int) unix.Errno {
	return c.changeUIDs(func(u idSet, priv bool) unix.Errno { return u.setRES(r, e, s, priv) })
}

// SetFSUID is setfsuid(2): it returns the old id, changed or not.
func (c *Cred) SetFSUID(fs int) int {
	old := c.FSUID
	if c.uids().setFS(fs, c.Capable(CapSetUID)) {
		c.fixFSCaps(old)
	}
	return old
}

// SetGID, SetREGID, SetRESGID and SetFSGID are the group ids'.
func (c *Cred) SetGID(gid int) unix.Errno { return c.gids().setID(gid, c.Capable(CapSetGID)) }

func (c *Cred) SetREGID(r, e int) unix.Errno { return c.gids().setRE(r, e, c.Capable(CapSetGID)) }

func (c *Cred) SetRESGID(r, e, s int) unix.Errno {
	return c.gids().setRES(r, e, s, c.Capable(CapSetGID))
}

func (c *Cred) SetFSGID(fs int) int {
	old := c.FSGID
	c.gids().setFS(fs, c.Capable(CapSetGID))
	return old
}

// changeUIDs applies f to the user ids and, when it succeeds, adjusts the
// capabilities to the change.
func (c *Cred) changeUIDs(f func(u idSet, privileged bool) unix.Errno) unix.Errno {
	old := *c
	if e := f(c.uids(), c.Capable(CapSetUID)); e != 0 {
		return e
	}
	c.fixCaps(&old)
	return 0
}

// idSet is the real, effective, saved and filesystem ids of one kind.
type idSet struct{ r, e, s, fs *int }

func (c *Cred) uids() idSet { return idSet{&c.UID, &c.EUID, &c.SUID, &c.FSUID} }
func (c *Cred) gids() idSet { return idSet{&c.GID, &c.EGID, &c.SGID, &c.FSGID} }

// setID is setuid's rule: privileged, all three ids; else the effective
// one, to the real or saved id.
func (ids idSet) setID(id int, privileged bool) unix.Errno {
	switch {
	case privileged:
		*ids.r, *ids.e, *ids.s = id, id, id
	case id == *ids.r || id == *ids.s:
		*ids.e = id
	default:
		return unix.EPERM
	}
	*ids.fs = *ids.e
	return 0
}

// setRE is setreuid's rule: unprivileged, the real id may become the real
// or effective one, the effective id any of the three; the saved id
// follows the effective id when the real id is set or the effective one
// moves off the old real id.
func (ids idSet) setRE(r, e int, privileged bool) unix.Errno {
	oldR := *ids.r
	if !privileged && (r != noChange && r != *ids.r && r != *ids.e ||
		e != noChange && e != *ids.r && e != *ids.e && e != *ids.s) {
		return unix.EPERM
	}
	set(ids.r, r)
	set(ids.e, e)
	if r != noChange || e != noChange && e != oldR {
		*ids.s = *ids.e
	}
	*ids.fs = *ids.e
	return 0
}

// setRES is setresuid's rule: unprivileged, each id may become any of the
// three current ones.
func (ids idSet) setRES(r, e, s int, privileged bool) unix.Errno {
	if !privileged && !allowed([]int{*ids.r, *ids.e, *ids.s}, r, e, s) {
		return unix.EPERM
	}
	set(ids.r, r)
	set(ids.e, e)
	set(ids.s, s)
	*ids.fs = *ids.e
	return 0
}

// setFS is setfsuid's rule: privileged, or to one of the four ids; it
// reports whether the id changed.
func (ids idSet) setFS(fs int, privileged bool) bool {
	if !privileged && !slices.Contains([]int{*ids.r, *ids.e, *ids.s, *ids.fs}, fs) {
		return false
	}
	changed := *ids.fs != fs
	*ids.fs = fs
	return changed
}

// SetGroups is setgroups(2).
func (c *Cred) SetGroups(groups []int) unix.Errno {
	if !c.Capable(CapSetGID) {
		return unix.EPERM
	}
	if len(groups) > MaxGroups {
		return unix.EINVAL
	}
	c.Groups = slices.Clone(groups)
	slices.Sort(c.Groups) // Linux keeps them sorted
	return 0
}

// SetCaps is capset(2) on the caller's own sets: the new inheritable set
// within the old inheritable and permitted sets (the bounding set with
// CAP_SETPCAP), the permitted set within the old one, the effective set
// within the new permitted one. Ambient capabilities no longer both
// permitted and inheritable are dropped.
func (c *Cred) SetCaps(eff, prm, inh uint64) unix.Errno {
	old := c.Caps
	inhLimit := old.Inheritable | old.Permitted
	if c.Capable(CapSetPCap) {
		inhLimit = old.Inheritable | old.Bounding
	}
	switch {
	case inh&^inhLimit != 0, inh&^(old.Inheritable|old.Bounding) != 0,
		prm&^old.Permitted != 0, eff&^prm != 0:
		return unix.EPERM
	}
	c.Caps.Effective, c.Caps.Permitted, c.Caps.Inheritable = eff, prm, inh
	c.Caps.Ambient &= prm & inh
	return 0
}

// DropBound is prctl(PR_CAPBSET_DROP).
func (c *Cred) DropBound(cap int) unix.Errno {
	if cap < 0 || cap > CapLast {
		return unix.EINVAL
	}
	if !c.Capable(CapSetPCap) {
		return unix.EPERM
	}
	c.Caps.Bounding &^= 1 << cap
	return 0
}

// RaiseAmbient and LowerAmbient are prctl(PR_CAP_AMBIENT)'s.
func (c *Cred) RaiseAmbient(cap int) unix.Errno {
	if cap < 0 || cap > CapLast {
		return unix.EINVAL
	}
	if bit := uint64(1) << cap; c.Caps.Permitted&bit == 0 || c.Caps.Inheritable&bit == 0 {
		return unix.EPERM
	}
	c.Caps.Ambient |= 1 << cap
	return 0
}

// fixCaps adjusts the capabilities after a uid change, as Linux's
// cap_task_fix_setuid: leaving uid 0 in all three ids drops the permitted
// and effective sets (unless KeepCaps) and the ambient one; the effective
// set follows the effective uid leaving and reaching 0; then the
// filesystem uid's.
func (c *Cred) fixCaps(old *Cred) {
	wasRoot := old.UID == 0 || old.EUID == 0 || old.SUID == 0
	if wasRoot && c.UID != 0 && c.EUID != 0 && c.SUID != 0 {
		if !c.KeepCaps {
			c.Caps.Permitted, c.Caps.Effective = 0, 0
		}
		c.Caps.Ambient = 0
	}
	switch {
	case old.EUID == 0 && c.EUID != 0:
		c.Caps.Effective = 0
	case old.EUID != 0 && c.EUID == 0:
		c.Caps.Effective = c.Caps.Permitted
	}
	c.fixFSCaps(old.FSUID)
}

// fixFSCaps adjusts the filesystem capabilities after an fsuid change
// from old.
func (c *Cred) fixFSCaps(old int) {
	switch {
	case old == 0 && c.FSUID != 0:
		c.Caps.Effective &^= capFSMask
	case old != 0 && c.FSUID == 0:
		c.Caps.Effective |= c.Caps.Permitted & capFSMask
	}
}

// allowed says an unprivileged caller may set the ids to r, e and s: each
// unchanged or one of ids.
func allowed(ids []int, r, e, s int) bool {
	for _, n := range []int{r, e, s} {
		if n != noChange && !slices.Contains(ids, n) {
			return false
		}
	}
	return true
}

func set(id *int, v int) {
	if v != noChange {
		*id = v
	}
}

// Wire is c as mcexec's workers take it on.
func (c *Cred) Wire() ikc.Cred {
	w := ikc.Cred{UID: uint32(c.UID), EUID: uint32(c.EUID), SUID: uint32(c.SUID), FSUID: uint32(c.FSUID),
		GID: uint32(c.GID), EGID: uint32(c.EGID), SGID: uint32(c.SGID), FSGID: uint32(c.FSGID),
		Effective: c.Caps.Effective, Permitted: c.Caps.Permitted, Inheritable: c.Caps.Inheritable,
		Ambient: c.Caps.Ambient, Bounding: c.Caps.Bounding, NGroups: uint32(len(c.Groups))}
	if c.KeepCaps {
		w.KeepCaps = 1
	}
	for i, g := range c.Groups {
		w.Groups[i] = uint32(g)
	}
	return w
}

// ProcStatusCred reads a Linux process's credentials from its
// /proc/PID/status text: the Uid, Gid, Groups, Cap* and NoNewPrivs lines.
func ProcStatusCred(status []byte) (Cred, error) {
	var c Cred
	seen := 0
	for line := range strings.Lines(string(status)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		ints := func(dst ...*int) error {
			if len(f) < len(dst) {
				return fmt.Errorf("%s: %q", key, val)
			}
			for i, d := range dst {
				n, err := strconv.Atoi(f[i])
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				*d = n
			}
			seen++
			return nil
		}
		caps := func(dst *uint64) error {
			if len(f) != 1 {
				return fmt.Errorf("%s: %q", key, val)
			}
			n, err := strconv.ParseUint(f[0], 16, 64)
			*dst = n
			seen++
			return err
		}
		var err error
		switch key {
		case "Uid":
			err = ints(&c.UID, &c.EUID, &c.SUID, &c.FSUID)
		case "Gid":
			err = ints(&c.GID, &c.EGID, &c.SGID, &c.FSGID)
		case "Groups":
			for _, g := range f {
				n, e := strconv.Atoi(g)
				if e != nil {
					err = fmt.Errorf("groups: %w", e)
				}
				c.Groups = append(c.Groups, n)
			}
		case "CapInh":
			err = caps(&c.Caps.Inheritable)
		case "CapPrm":
			err = caps(&c.Caps.Permitted)
		case "CapEff":
			err = caps(&c.Caps.Effective)
		case "CapBnd":
			err = caps(&c.Caps.Bounding)
		case "CapAmb":
			err = caps(&c.Caps.Ambient)
		case "NoNewPrivs":
			c.NoNewPrivs = len(f) == 1 && f[0] == "1"
		}
		if err != nil {
			return Cred{}, fmt.Errorf("status: %w", err)
		}
	}
	if seen < 7 { // Uid, Gid and the five Cap lines
		return Cred{}, fmt.Errorf("status: ids or capabilities missing")
	}
	return c, nil
}

// Exec recomputes the capabilities at execve, as Linux does for a file
// without capabilities or set-id bits: a process with uid 0 (real or
// effective) gets its bounding set permitted, effective when its
// effective uid is 0; another keeps its ambient set as permitted and
// effective. KeepCaps does not survive it.
func (c *Cred) Exec() {
	if c.UID == 0 || c.EUID == 0 {
		c.Caps.Permitted = c.Caps.Inheritable | c.Caps.Bounding
		c.Caps.Ambient = 0
	} else {
		c.Caps.Permitted = c.Caps.Ambient
	}
	c.Caps.Effective = 0
	if c.EUID == 0 || c.Caps.Ambient != 0 {
		c.Caps.Effective = c.Caps.Permitted
	}
	c.SUID, c.FSUID, c.SGID, c.FSGID = c.EUID, c.EUID, c.EGID, c.EGID
	c.KeepCaps = false
}

// ChangeCred applies f to p's credentials and, when they changed,
// publishes them in p's channel, where mcexec's workers take them on
// before their next call.
func (p *Process) ChangeCred(f func(*Cred) unix.Errno) unix.Errno {
	p.CredMu.Lock()
	defer p.CredMu.Unlock()
	c := p.Cred
	c.Groups = slices.Clone(c.Groups)
	if e := f(&c); e != 0 {
		return e
	}
	if c.same(&p.Cred) {
		return 0
	}
	c.Gen++
	p.Cred = c
	p.publishCred()
	return 0
}

// publishCred writes p's credentials in its channel (Gen 0, mcexec's
// own, clears what a channel used before says). CredMu is held.
func (p *Process) publishCred() {
	if p.Chan != nil {
		w := p.Cred.Wire()
		p.Chan.SetCred(&w, p.Cred.Gen)
	}
}

// InheritCred gives child, forked from p, p's credentials, in its new
// channel too.
func (p *Process) InheritCred(child *Process) {
	p.CredMu.Lock()
	cred := p.Cred
	cred.Groups = slices.Clone(cred.Groups)
	p.CredMu.Unlock()
	child.CredMu.Lock()
	child.Cred = cred
	child.publishCred()
	child.CredMu.Unlock()
}

// same says c and o are the same credentials, whatever their Gen.
func (c *Cred) same(o *Cred) bool {
	a, b := *c, *o
	a.Gen, b.Gen, a.Groups, b.Groups = 0, 0, nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(c.Groups, o.Groups)
}

// NameLen is the size of a thread's name, its NUL included (TASK_COMM_LEN).
const NameLen = 16

// Name is t's name: prctl's, or its executable's base name, cut as
// Linux cuts it.
func (t *Thread) Name() [NameLen]byte {
	t.Proc.CredMu.Lock()
	defer t.Proc.CredMu.Unlock()
	if t.Comm[0] != 0 {
		return t.Comm
	}
	var n [NameLen]byte
	copy(n[:NameLen-1], filepath.Base(t.Proc.Exe))
	return n
}

// SetName is prctl(PR_SET_NAME).
func (t *Thread) SetName(n [NameLen]byte) {
	t.Proc.CredMu.Lock()
	t.Comm = n
	t.Proc.CredMu.Unlock()
}
