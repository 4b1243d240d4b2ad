package mcexec

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// A worker executes the app's calls with the app's credentials: those the
// LWK publishes in the channel when the app changes them (ikc.Cred). It
// takes them on for its own thread with the raw system calls (glibc's
// wrappers, and Go's, would change every thread of mcexec), and a worker
// that did ends with the process it served: its thread cannot get
// mcexec's rights back for the next one. The runtime starts the worker
// replacing it from its template thread, with mcexec's own credentials.

// takeCred gives the calling worker's thread the credentials the LWK
// published for ch, if they changed since applied; it returns the change
// applied.
func takeCred(ch *ikc.Channel, applied uint64) uint64 {
	if ch.CredGen() == applied {
		return applied
	}
	cred, gen := ch.Cred()
	if err := applyCred(&cred); err != nil {
		fmt.Fprintln(os.Stderr, "mcexec: taking on the app's credentials:", err)
	}
	return gen
}

// capHeader and capData are capset's ABI, version 3.
type capHeader struct {
	Version uint32
	PID     int32
}

type capData struct{ Effective, Permitted, Inheritable uint32 }

const (
	prSetKeepCaps  = 8
	prCapbsetDrop  = 24
	prCapAmbient   = 47
	ambientRaise   = 2
	ambientClear   = 4
	capLast        = 40
	capVersion3    = 0x20080522
	rawNoChange    = ^uintptr(0)
	keepCapsDuring = 1
)

// applyCred changes the thread's credentials to cred: the groups and the
// gids first, while it may still; the uids keeping the capabilities, then
// the capability sets themselves and what KeepCaps should be.
func applyCred(cred *ikc.Cred) error {
	raw := func(what string, nr uintptr, a ...uintptr) error {
		a = append(a, 0, 0, 0)
		if _, _, e := unix.RawSyscall(nr, a[0], a[1], a[2]); e != 0 {
			return fmt.Errorf("%s: %w", what, e)
		}
		return nil
	}
	prctl := func(what string, a ...uintptr) error {
		a = append(a, 0, 0, 0, 0, 0)
		if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, a[0], a[1], a[2], a[3], a[4], 0); e != 0 {
			return fmt.Errorf("%s: %w", what, e)
		}
		return nil
	}
	// Each step that is not needed (the thread has the ids already) may
	// fail for want of the capability; only the end state counts.
	var groups *uint32
	if cred.NGroups > 0 {
		groups = &cred.Groups[0]
	}
	raw("setgroups", unix.SYS_SETGROUPS, uintptr(cred.NGroups), uintptr(unsafe.Pointer(groups)))
	prctl("keep capabilities", prSetKeepCaps, keepCapsDuring)
	for cap := range capLast + 1 {
		if cred.Bounding&(1<<cap) == 0 {
			prctl("drop a bounding capability", prCapbsetDrop, uintptr(cap))
		}
	}
	if err := raw("setresgid", unix.SYS_SETRESGID, uintptr(cred.GID), uintptr(cred.EGID), uintptr(cred.SGID)); err != nil {
		return err
	}
	if err := raw("setresuid", unix.SYS_SETRESUID, uintptr(cred.UID), uintptr(cred.EUID), uintptr(cred.SUID)); err != nil {
		return err
	}
	raw("setfsgid", unix.SYS_SETFSGID, uintptr(cred.FSGID))
	raw("setfsuid", unix.SYS_SETFSUID, uintptr(cred.FSUID))
	hdr := capHeader{Version: capVersion3}
	var data [2]capData
	for w := range data {
		data[w] = capData{uint32(cred.Effective >> (32 * w)), uint32(cred.Permitted >> (32 * w)), uint32(cred.Inheritable >> (32 * w))}
	}
	if err := raw("capset", unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0]))); err != nil {
		return err
	}
	prctl("clear the ambient capabilities", prCapAmbient, ambientClear)
	for cap := range capLast + 1 {
		if cred.Ambient&(1<<cap) != 0 {
			prctl("raise an ambient capability", prCapAmbient, ambientRaise, uintptr(cap))
		}
	}
	return prctl("keep capabilities", prSetKeepCaps, uintptr(cred.KeepCaps))
}
