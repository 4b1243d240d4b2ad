package gdbserver

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/lwk"
)

// Server serves one snapshot of an LWK instance to one gdb.
type Server struct {
	snap    *lwk.Snapshot
	mem     inspect.Memory // the daemon's
	threads []*thread      // by process, then by thread
	byTID   map[int]*thread
	apps    map[int]*lwk.AppMemory
	cur     *thread // the general thread (Hg): registers and memory are its
	stopped *thread // the thread the stop reply names
	desc    description
	listed  int // threads q[fs]ThreadInfo has listed

	// Log, if set, gets every packet (eclair -d).
	Log io.Writer
	// Warn, if set, gets the reason of a refusal that gdb does not show
	// (it says "Cannot access memory at address" of a read refused with a
	// message, not the message): once for reads of mapped memory, once
	// per kind of write.
	Warn   io.Writer
	warned map[string]bool

	c *conn
}

// thread is an LWK thread as gdb sees it.
type thread struct {
	*lwk.Thread
	proc *lwk.Process
}

// comm is the thread's name as Linux's comm: the executable's base name,
// at most 15 bytes.
func (t *thread) comm() string {
	name := filepath.Base(t.proc.Exe)
	return name[:min(len(name), 15)]
}

// New serves snap, read from the daemon's memory mem with lwk.What's
// VMAs, Regs, FP, Auxv and Pending (and Kmsg for monitor log). The
// thread the stop reply names, and gdb starts in, is the first that got
// a signal, or else the first current on its CPU, or else the first
// (Focus picks another process's).
func New(mem inspect.Memory, snap *lwk.Snapshot) (*Server, error) {
	s := &Server{snap: snap, mem: mem, byTID: map[int]*thread{}, apps: map[int]*lwk.AppMemory{}, warned: map[string]bool{}}
	for i := range snap.Procs {
		p := &snap.Procs[i]
		for j := range p.Threads {
			t := &thread{Thread: &p.Threads[j], proc: p}
			if t.Changing || t.TID <= 0 || s.byTID[t.TID] != nil {
				continue // a record that kept changing has no TID to show
			}
			s.threads = append(s.threads, t)
			s.byTID[t.TID] = t
		}
	}
	if len(s.threads) == 0 {
		return nil, fmt.Errorf("%s: no LWK thread to debug (no process runs)", snap.Source)
	}
	s.desc = descBase
	for _, t := range s.threads {
		if len(t.FPState) > 0 { // all from one machine: the first says
			s.desc = descriptionFor(t.FPState)
			break
		}
	}
	s.focus(func(*thread) bool { return true })
	return s, nil
}

// Focus starts gdb in process pid, at its thread picked as New picks
// among all. gdb reads the auxiliary vector and the libraries once, of
// the process it starts in, so that is the process whose executable it
// is given.
func (s *Server) Focus(pid int) error {
	if !s.focus(func(t *thread) bool { return t.proc.PID == pid }) {
		return fmt.Errorf("%s: no LWK process %d", s.snap.Source, pid)
	}
	return nil
}

// focus makes the thread gdb starts in that of the threads in says are
// in which got a signal (one pending), or else is current on its CPU, or
// else comes first.
func (s *Server) focus(in func(*thread) bool) bool {
	var best *thread
	rank := func(t *thread) int {
		switch {
		case t.Pending != 0:
			return 2
		case t.Current:
			return 1
		}
		return 0
	}
	for _, t := range s.threads {
		if in(t) && (best == nil || rank(t) > rank(best)) {
			best = t
		}
	}
	if best != nil {
		s.stopped, s.cur = best, best
	}
	return best != nil
}

// UseRecorded takes each thread's registers from those a dump recorded
// for it (its thread notes), as gdb takes a core's from its NT_PRSTATUS,
// rather than from the kernel's record in the dump's memory: a running
// daemon is not stopped for a dump, so a thread that ran on between the
// two has different ones in each, and the notes are what the dump says.
func (s *Server) UseRecorded(threads []dumpfile.Thread) {
	for _, r := range threads {
		if t := s.byTID[r.TID]; t != nil {
			t.Regs = dumpfile.RegsByName(r.Regs)
		}
	}
}

// Serve speaks the remote protocol on rw until gdb detaches, kills or
// hangs up.
func (s *Server) Serve(rw io.ReadWriter) error {
	s.c = newConn(rw, s.Log)
	for {
		pkt, err := s.c.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading from gdb: %w", err)
		}
		reply, done := s.handle(pkt)
		if reply != nil {
			if err := s.c.write(reply); err != nil {
				return fmt.Errorf("writing to gdb: %w", err)
			}
		}
		if bytes.Equal(pkt, []byte("QStartNoAckMode")) {
			s.c.noAck = true // from the packet after the OK
		}
		if done {
			return nil
		}
	}
}

// errReadOnly answers whatever would write or resume the target.
var errReadOnly = errors.New("eclair is read-only: it shows the LWK as it was read, and never writes or resumes it")

// errorReply is an error as the E.errtext packet, which gdb shows where
// it shows a stub's message.
func errorReply(err error) []byte { return []byte("E." + err.Error()) }

// errMemory is the reply to a refused memory read: gdb (13) takes any
// other reply to m than Enn for hex bytes.
var errMemory = []byte("E0e") // EFAULT

// handle answers one packet; done says the session is over (nil reply:
// none is sent).
func (s *Server) handle(pkt []byte) (reply []byte, done bool) {
	if len(pkt) == 0 {
		return []byte{}, false
	}
	body := string(pkt[1:])
	switch pkt[0] {
	case '?':
		return s.stopReply(s.stopped), false
	case 'g':
		return s.allRegisters(s.cur), false
	case 'p':
		return s.register(body), false
	case 'm':
		return s.readMemory(body, false), false
	case 'x':
		return s.readMemory(body, true), false
	case 'H':
		return s.setThread(body), false
	case 'T':
		if _, err := s.thread(body); err != nil {
			return errorReply(err), false
		}
		return []byte("OK"), false
	case 'q':
		return s.query(body), false
	case 'Q':
		if body == "StartNoAckMode" {
			return []byte("OK"), false
		}
		return []byte{}, false
	case 'v':
		return s.vPacket(body)
	case 'D':
		return []byte("OK"), true
	case 'k':
		return nil, true
	case 'M', 'X':
		return s.refuse("writing memory"), false
	case 'G', 'P':
		return s.refuse("writing registers"), false
	case 'Z', 'z':
		return s.refuse("setting breakpoints"), false
	case 'c', 'C', 's', 'S':
		return s.refuse("resuming"), false
	}
	return []byte{}, false // not supported
}

func (s *Server) vPacket(body string) ([]byte, bool) {
	switch {
	case body == "Cont?":
		// No c or s: gdb learns it cannot resume through vCont.
		return []byte("vCont;t"), false
	case strings.HasPrefix(body, "Kill"):
		return []byte("OK"), true
	case strings.HasPrefix(body, "Cont;"), strings.HasPrefix(body, "Attach;"), strings.HasPrefix(body, "Run;"):
		return s.refuse("resuming"), false
	}
	return []byte{}, false
}

// refuse answers a packet that would change the target.
func (s *Server) refuse(what string) []byte {
	err := fmt.Errorf("%s refused: %w", what, errReadOnly)
	s.warn(what, err)
	return errorReply(err)
}

func (s *Server) warn(key string, err error) {
	if s.Warn == nil || s.warned[key] {
		return
	}
	s.warned[key] = true
	fmt.Fprintf(s.Warn, "eclair: %v\n", err)
}

// thread finds a thread by its id in a packet: the LWK tid in hex.
func (s *Server) thread(id string) (*thread, error) {
	tid, err := strconv.ParseInt(id, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("bad thread id %q", id)
	}
	t := s.byTID[int(tid)]
	if t == nil {
		return nil, fmt.Errorf("no LWK thread %d", tid)
	}
	return t, nil
}

// setThread is Hg and Hc: the thread for registers and memory, and the
// one to resume (none ever is). 0 (any) and -1 (all) keep the current.
func (s *Server) setThread(body string) []byte {
	if body == "" {
		return errorReply(errors.New("empty H packet: want Hg or Hc and a thread id"))
	}
	op, id := body[0], body[1:]
	if id == "0" || id == "-1" {
		return []byte("OK")
	}
	t, err := s.thread(id)
	if err != nil {
		return errorReply(err)
	}
	if op == 'g' {
		s.cur = t
	}
	return []byte("OK")
}

func (s *Server) stopReply(t *thread) []byte {
	return fmt.Appendf(nil, "T%02xthread:%x;core:%x;", stopSignal(t.Pending), t.TID, t.CPU)
}

func (s *Server) allRegisters(t *thread) []byte {
	var out []byte
	for _, r := range s.desc.regs {
		out = appendRegister(out, r, t)
	}
	return out
}

// appendRegister appends r's value in hex, or 'x's if it is unavailable.
func appendRegister(out []byte, r register, t *thread) []byte {
	v, ok := regValue(r, t.Thread)
	if !ok {
		return append(out, bytes.Repeat([]byte("x"), r.bits/4)...)
	}
	return hex.AppendEncode(out, v)
}

func (s *Server) register(body string) []byte {
	n, err := strconv.ParseUint(body, 16, 16)
	if err != nil || n >= uint64(len(s.desc.regs)) {
		return errorReply(fmt.Errorf("no register %q (0 to %x)", body, len(s.desc.regs)-1))
	}
	return appendRegister(nil, s.desc.regs[n], s.cur)
}

// app is the memory of process pid, through its page table.
func (s *Server) app(pid int) (*lwk.AppMemory, error) {
	if m := s.apps[pid]; m != nil {
		return m, nil
	}
	m, err := lwk.NewAppMemory(s.mem, s.snap, pid)
	if err != nil {
		return nil, err
	}
	s.apps[pid] = m
	return m, nil
}

// readMemory is m ADDR,LENGTH (or x, binary: the bytes after a 'b') in
// the address space of the current thread's process. A read that stops
// short returns what it got, as gdb accepts; one that gets nothing is
// refused, and why said to Warn.
func (s *Server) readMemory(body string, binary bool) []byte {
	addr, n, err := addrLength(body)
	if err != nil {
		return errMemory
	}
	app, err := s.app(s.cur.proc.PID)
	if err != nil {
		s.warn("memory", err)
		return errMemory
	}
	buf := make([]byte, min(n, PacketSize/2))
	got, err := app.ReadMemory(buf, addr)
	if got == 0 && err != nil {
		// gdb probes unmapped addresses as it unwinds, and its "Cannot
		// access memory" says all of those; a mapped page that cannot be
		// read (not in the dump) has a reason to give.
		if !errors.Is(err, lwk.ErrNotMapped) {
			s.warn("memory", err)
		}
		return errMemory
	}
	if binary {
		return append([]byte("b"), buf[:got]...)
	}
	return hex.AppendEncode([]byte{}, buf[:got]) // not nil: an empty reply is sent
}

// addrLength parses "ADDR,LENGTH" (hex).
func addrLength(s string) (addr, n uint64, err error) {
	a, l, ok := strings.Cut(s, ",")
	if ok {
		addr, err = strconv.ParseUint(a, 16, 64)
	}
	if ok && err == nil {
		n, err = strconv.ParseUint(l, 16, 64)
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("bad address and length %q: want ADDR,LENGTH in hex", s)
	}
	return addr, n, nil
}
