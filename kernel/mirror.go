package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/task"
)

// mirror applies address-space changes to the stub and logs them for the
// mcexec mirror. A change is injected through the process's stub thread on
// the CPU making it: every ptrace request must come from that stub
// thread's tracer, and one mmap serves all the stub process's threads.
type mirror struct {
	k  *OS
	p  *task.Process
	ch *ikc.Channel
	// attaching is set while a forked address space is attached: its
	// proxy maps that snapshot from the attach reply, so nothing is
	// logged; and the stub's page tables are left to fill on first touch,
	// as a forked child touches little of what it inherits before it
	// execs or exits.
	attaching bool
}

// here returns the CPU making the change and its stub thread.
func (m *mirror) here() (*CPU, *task.Context, error) {
	c := m.k.here()
	if c == nil {
		return nil, nil, fmt.Errorf("pid %d: address space changed off the LWK CPUs (thread %d)", m.p.PID, unix.Gettid())
	}
	s := m.p.StubOn(c.Index)
	if s == nil || !s.Attached() {
		return nil, nil, fmt.Errorf("pid %d: address space changed on cpu %d, where it has no stub thread (%v)", m.p.PID, c.Index, s != nil)
	}
	return c, s, nil
}

func (m *mirror) log(c *CPU, e ikc.LogEntry) {
	if m.attaching {
		return
	}
	if m.ch.LogFull() {
		m.sync(c)
	}
	m.ch.AppendLog(e)
}

// sync makes mcexec replay the mapping log (when its ring is full), in
// the slot of the thread whose call changes the mappings: its own slot is
// free, while other threads' may hold parked calls. Without a current
// thread (process set-up) no call is in flight.
func (m *mirror) sync(c *CPU) {
	slot, tid := 0, 0
	if t := c.Current; t != nil {
		slot, tid = t.Slot, t.TID
	}
	m.ch.Post(slot, ikc.NrSync, [6]uint64{}, 0, uint64(tid))
	m.ch.Wait(slot, 0)
}

func (m *mirror) Map(va, length, off uint64, prot int) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	if err := s.Map(va, length, off, prot, !m.attaching); err != nil {
		return err
	}
	m.log(c, ikc.LogEntry{VA: va, Len: length, Off: off, Prot: uint64(prot)})
	return nil
}

// MapAll maps a forked address space's segments with one stop of the
// stub (mm.BatchMapper), unpopulated as Map does while attaching.
func (m *mirror) MapAll(segs []mm.MappedSegment) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	ms := make([]platform.Mapping, len(segs))
	for i, seg := range segs {
		ms[i] = platform.Mapping{VA: seg.VA, Len: seg.Len, Off: seg.Off, Prot: seg.Prot}
	}
	if err := s.MapAll(ms); err != nil {
		return err
	}
	for _, seg := range segs {
		m.log(c, ikc.LogEntry{VA: seg.VA, Len: seg.Len, Off: seg.Off, Prot: uint64(seg.Prot)})
	}
	return nil
}

func (m *mirror) Unmap(va, length uint64) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	if err := s.Unmap(va, length); err != nil {
		return err
	}
	m.log(c, ikc.LogEntry{VA: va, Len: length, Off: ikc.Unmapped})
	return nil
}

// MapFile maps a shared file mapping in the stub only: mcexec mirrors it
// from the app's own descriptor as mmap makes it (sysMmap offloads the
// same mmap), and a forked child's proxy from the descriptors the attach
// reply hands it; the log, which names partition bytes, cannot say it.
func (m *mirror) MapFile(va, length uint64, fd int, off uint64, prot int) error {
	_, s, err := m.here()
	if err != nil {
		return err
	}
	return s.MapFile(va, length, fd, off, prot)
}

// AttachSysV attaches a System V segment in the stub only, as MapFile
// maps a file: sysShmat attaches mcexec's mirror, the attach reply a
// forked child's.
func (m *mirror) AttachSysV(va uint64, shmid int, prot int) error {
	_, s, err := m.here()
	if err != nil {
		return err
	}
	return s.AttachSysV(va, shmid, prot)
}

// Protect changes only the stub: the mirror stays writable because Linux
// fills read-only app buffers on the app's behalf (private file mappings).
func (m *mirror) Protect(va, length uint64, prot int) error {
	_, s, err := m.here()
	if err != nil {
		return err
	}
	return s.Protect(va, length, prot)
}
