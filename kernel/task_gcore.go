package kernel

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/gencore"
	"github.com/gomck/gomck/kernel/task"
)

// Cores of live processes (mcgcore, as gdb's gcore): the process is
// frozen (its threads off their CPUs, unseen by its parent and mcexec),
// its populated pages are copied into memory of the daemon's, and it runs
// on while the core is written from the copy into the file mcgcore
// opened. The pause is the copy's, not the disk's.

// serveGcore writes a core of process req.PID into the file fds[0], for a
// peer that may (root, or the process's user).
func (k *OS) serveGcore(c *control.Conn, req control.Request, fds []int) (*control.GcoreResult, error) {
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("gcore request without the core file's descriptor")
	}
	out := os.NewFile(uintptr(fds[0]), "core")
	defer out.Close()
	p := k.Procs.Find(req.PID)
	if p == nil || p.Exited {
		return nil, fmt.Errorf("no LWK process %d", req.PID)
	}
	cred, err := unix.GetsockoptUcred(c.FD(), unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return nil, err
	}
	if cred.Uid != 0 && (int(cred.Uid) != p.Cred.UID || int(cred.Uid) != p.Cred.EUID) {
		return nil, fmt.Errorf("process %d is uid %d's: %w", p.PID, p.Cred.UID, unix.EPERM)
	}
	core, paused, err := k.takeCore(p)
	if err != nil {
		return nil, err
	}
	res, err := gencore.Write(out, core.Core, gencore.NoLimit)
	core.release()
	if err != nil {
		return nil, err
	}
	k.Kmsg.Printf("pid %d: core taken (%d bytes, %d threads, paused %v)", p.PID, res.Size, len(core.Threads), paused.Round(time.Microsecond))
	return &control.GcoreResult{Size: res.Size, Threads: len(core.Threads), PausedNs: paused.Nanoseconds()}, nil
}

// snapshot is a core whose pages are a copy, in buf.
type snapshot struct {
	*gencore.Core
	buf []byte
}

func (s *snapshot) release() {
	if s.buf != nil {
		unix.Munmap(s.buf)
	}
}

// takeCore freezes p, describes it and copies its pages, and lets it run
// on; it returns how long p was kept from running.
func (k *OS) takeCore(p *task.Process) (*snapshot, time.Duration, error) {
	// The copy's memory is made ready before the pause, for the pages
	// that are populated now.
	rss, _ := p.MM.Usage()
	buf, err := populated(rss + 64*gencore.PageSize)
	if err != nil {
		return nil, 0, fmt.Errorf("memory to copy process %d into: %w", p.PID, err)
	}
	start := time.Now()
	k.freeze(p)
	defer func() { k.thaw(p) }()
	if !k.saveFPs(p, nil) {
		unix.Munmap(buf)
		return nil, 0, fmt.Errorf("process %d did not stop within %v", p.PID, haltWait)
	}
	p.CoreMu.Lock()
	defer p.CoreMu.Unlock()
	if p.Ending() {
		unix.Munmap(buf)
		return nil, 0, fmt.Errorf("process %d exited while its core was taken", p.PID)
	}
	s := &snapshot{Core: k.coreOf(p, nil, 0), buf: buf}
	if err := s.copyPages(); err != nil {
		s.release()
		return nil, 0, err
	}
	return s, time.Since(start), nil
}

// populated maps n bytes of anonymous memory, faulted in.
func populated(n uint64) ([]byte, error) {
	return unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
}

// copyPages copies the pages the core holds into s.buf, growing it if the
// process populated more since it was made.
func (s *snapshot) copyPages() error {
	var need uint64
	s.eachRun(func(p *gencore.Pages) { need += uint64(len(p.Bytes)) })
	if need > uint64(len(s.buf)) {
		unix.Munmap(s.buf)
		var err error
		if s.buf, err = populated(need); err != nil {
			s.buf = nil
			return fmt.Errorf("memory to copy the process into: %w", err)
		}
	}
	at := 0
	s.eachRun(func(p *gencore.Pages) {
		n := copy(s.buf[at:], p.Bytes)
		p.Bytes = s.buf[at : at+n : at+n]
		at += n
	})
	return nil
}

// eachRun calls f for each run of pages the core holds, cut to what the
// filter keeps.
func (s *snapshot) eachRun(f func(*gencore.Pages)) {
	for i := range s.Areas {
		a := &s.Areas[i]
		end := a.Start + a.Dump
		kept := a.Pages[:0]
		for _, pg := range a.Pages {
			lo, hi := max(pg.Addr, a.Start), min(pg.Addr+uint64(len(pg.Bytes)), end)
			if lo < hi {
				kept = append(kept, gencore.Pages{Addr: lo, Bytes: pg.Bytes[lo-pg.Addr : hi-pg.Addr]})
			}
		}
		a.Pages = kept
		for j := range a.Pages {
			f(&a.Pages[j])
		}
	}
}

// freeze keeps p's threads from running: a running one parks at its next
// trap (the kick forces one), a runnable or sleeping one before it
// resumes (parkStopped).
func (k *OS) freeze(p *task.Process) {
	p.Frozen.Store(true)
	kick(p)
}

// thaw lets p's threads run again: those parked while it was frozen go
// back on their run queues, unless a job-control stop holds them now.
func (k *OS) thaw(p *task.Process) {
	var parked []*task.Thread
	k.Procs.TreeMu.Lock()
	p.Frozen.Store(false)
	if !p.Stopped.Load() && !p.Exited {
		for _, t := range p.Threads {
			if t.State == task.Stopped {
				parked = append(parked, t)
			}
		}
	}
	k.Procs.TreeMu.Unlock()
	for _, t := range parked {
		k.CPUs[t.CPU].Queue.Push(t)
	}
}
