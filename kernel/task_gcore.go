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
	start := time.Now()
	core, paused, err := k.takeCore(p)
	if err != nil {
		return nil, err
	}
	copied := time.Since(start)
	res, err := gencore.Write(out, core.Core, gencore.NoLimit)
	core.release()
	if err != nil {
		return nil, err
	}
	k.Kmsg.Printf("pid %d: core taken (%d bytes, %d threads, paused %v; copied in %v, written in %v)", p.PID, res.Size, len(core.Threads),
		paused.Round(time.Microsecond), copied.Round(time.Millisecond), (time.Since(start) - copied).Round(time.Millisecond))
	return &control.GcoreResult{Size: res.Size, Threads: len(core.Threads), PausedNs: paused.Nanoseconds()}, nil
}

// snapshot is a core whose pages are a copy; release gives the copy's
// memory back.
type snapshot struct {
	*gencore.Core
	release func()
}

// takeCore freezes p, describes it, copies its pages and lets it run on;
// it returns how long p was kept from running. The copy is made before
// the core is written, not while: with one Linux CPU, the two would only
// take turns, and the pause would last as long as both.
//
// The copy goes into free partition pages when the partition has twice
// as many free as p holds, so that the app keeps at least as much free
// memory as the copy takes, for as long as the write lasts: they are
// faulted in and locked already, where new anonymous memory must be
// touched first (in this nested VM, memory not touched lately costs some
// 3 s per GiB to touch again). Otherwise it goes into anonymous memory,
// made ready before the pause.
func (k *OS) takeCore(p *task.Process) (*snapshot, time.Duration, error) {
	rss, _ := p.MM.Usage()
	var anon []byte
	if k.Alloc.FreePages()*gencore.PageSize < 2*rss {
		var err error
		if anon, err = populated(rss + 64*gencore.PageSize); err != nil {
			return nil, 0, fmt.Errorf("memory to copy process %d into: %w", p.PID, err)
		}
	}
	start := time.Now()
	k.freeze(p)
	defer k.thaw(p)
	fail := func(err error) (*snapshot, time.Duration, error) {
		if anon != nil {
			unix.Munmap(anon)
		}
		return nil, 0, err
	}
	if !k.saveFPs(p, nil) {
		return fail(fmt.Errorf("process %d did not stop within %v", p.PID, haltWait))
	}
	p.CoreMu.Lock()
	defer p.CoreMu.Unlock()
	if p.Ending() {
		return fail(fmt.Errorf("process %d exited while its core was taken", p.PID))
	}
	s := &snapshot{Core: k.coreOf(p, nil, 0)}
	dst, release, err := k.copyMemory(s.held(), anon)
	if err != nil {
		return fail(err)
	}
	s.release = release
	s.copyInto(dst)
	// A shutdown gives the core up: the copy may be in the partition.
	s.Abort = func() bool { return k.state() != "RUNNING" }
	return s, time.Since(start), nil
}

// copyMemory returns n bytes to copy a core's pages into, as pieces, and
// how to give them back: free partition pages, or anon (nil: none made
// ready) if it holds n bytes, or new anonymous memory.
func (k *OS) copyMemory(n uint64, anon []byte) ([][]byte, func(), error) {
	if anon == nil {
		pages := (n + gencore.PageSize - 1) / gencore.PageSize
		if runs, err := k.Alloc.AllocOverwritten(pages); err == nil {
			var dst [][]byte
			for _, r := range runs {
				dst = append(dst, k.Mem.Direct[r.Off():r.Off()+r.Pages*gencore.PageSize])
			}
			return dst, func() {
				for _, r := range runs {
					k.Alloc.FreeRun(r)
				}
			}, nil
		}
	}
	if uint64(len(anon)) < n {
		if anon != nil {
			unix.Munmap(anon)
		}
		var err error
		if anon, err = populated(n); err != nil {
			return nil, nil, fmt.Errorf("memory to copy the process into: %w", err)
		}
	}
	return [][]byte{anon}, func() { unix.Munmap(anon) }, nil
}

// populated maps n bytes of anonymous memory, faulted in.
func populated(n uint64) ([]byte, error) {
	return unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
}

// held cuts each area's pages to what the filter keeps and returns their
// bytes.
func (s *snapshot) held() uint64 {
	var n uint64
	for i := range s.Areas {
		a := &s.Areas[i]
		end := a.Start + a.Dump
		kept := a.Pages[:0]
		for _, pg := range a.Pages {
			lo, hi := max(pg.Addr, a.Start), min(pg.Addr+uint64(len(pg.Bytes)), end)
			if lo < hi {
				kept = append(kept, gencore.Pages{Addr: lo, Bytes: pg.Bytes[lo-pg.Addr : hi-pg.Addr]})
				n += hi - lo
			}
		}
		a.Pages = kept
	}
	return n
}

// copyInto copies the areas' pages into dst, which holds them all, and
// points the areas at the copy; a run is split where a piece of dst ends.
func (s *snapshot) copyInto(dst [][]byte) {
	for i := range s.Areas {
		a := &s.Areas[i]
		var moved []gencore.Pages
		for _, pg := range a.Pages {
			for addr, b := pg.Addr, pg.Bytes; len(b) > 0; {
				for len(dst[0]) == 0 {
					dst = dst[1:]
				}
				n := copy(dst[0], b)
				moved = append(moved, gencore.Pages{Addr: addr, Bytes: dst[0][:n:n]})
				dst[0], b, addr = dst[0][n:], b[n:], addr+uint64(n)
			}
		}
		a.Pages = moved
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
