package ikc

import (
	"sync/atomic"
)

// MaxGroups is how many supplementary groups Cred carries.
const MaxGroups = 512

// Cred are the app's credentials as the LWK keeps them, published in the
// channel's header each time they change: a worker takes them on (its
// own thread's ids, groups and capabilities) before it executes a call,
// so that Linux checks the app's rights, not mcexec's. Gen 0 means
// unchanged since the process began: its proxy has them already.
type Cred struct {
	UID, EUID, SUID, FSUID uint32
	GID, EGID, SGID, FSGID uint32
	KeepCaps               uint32
	NGroups                uint32
	Effective, Permitted   uint64
	Inheritable, Ambient   uint64
	Bounding               uint64
	Groups                 [MaxGroups]uint32
}

// credHeader is the header's seqlock around Cred: Seq is odd while the
// LWK writes it.
type credHeader struct {
	Seq  uint64
	Gen  uint64
	Cred Cred
}

// SetCred publishes cred as the process's credentials, change gen (LWK
// side; one writer: the process's calls are serialised by its CPU, or
// else by the kernel's lock on its credentials).
func (c *Channel) SetCred(cred *Cred, gen uint64) {
	h := &c.hdr.Cred
	atomic.AddUint64(&h.Seq, 1)
	h.Cred = *cred
	atomic.StoreUint64(&h.Gen, gen)
	atomic.AddUint64(&h.Seq, 1)
}

// CredGen is the change the published credentials are (mcexec side):
// a worker compares it with the one it applied, at every call.
func (c *Channel) CredGen() uint64 { return atomic.LoadUint64(&c.hdr.Cred.Gen) }

// Cred reads the published credentials whole (mcexec side).
func (c *Channel) Cred() (Cred, uint64) {
	h := &c.hdr.Cred
	for {
		s := atomic.LoadUint64(&h.Seq)
		if s&1 != 0 {
			continue
		}
		cred, gen := h.Cred, atomic.LoadUint64(&h.Gen)
		if atomic.LoadUint64(&h.Seq) == s {
			return cred, gen
		}
	}
}
