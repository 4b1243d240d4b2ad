package syscalls

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/stubcount"
	"github.com/gomck/gomck/perf"
)

// perf_event_open for software events and the lwk PMU's (perf.LWKEvents,
// attr.type Env.LWKType), counted from the LWK's own counters of the
// thread (kernel/stats), with inherit, on any LWK thread the caller may
// watch, or CPU-wide on an LWK CPU for the lwk events a CPU counts
// (perf_count.go). The app's descriptor is a placeholder mcexec opens (a
// non-blocking eventfd), since the app's fds are mcexec's; the process's
// perf.Table maps it to the event, and read, ioctl and close on it are
// served here. Other descriptors take the offload path as before.
// Hardware, cache and raw events, and those of the host's dynamic PMUs
// (msr, power...), count on Linux the stub threads that run the targets
// (kernel/stubcount): the daemon opens the app's attr on the target's
// stub, so the app gets Linux's errno where Linux refuses it (ENOENT
// without a PMU), and the kernel reads the stub's counter at each load
// and unload of a target thread (PerfLoad, PerfUnload). Not done yet:
// sampling (EOPNOTSUPP), cpu-wide events and events bound to a CPU
// (EOPNOTSUPP; a Linux event's after Linux's verdict), and a descriptor
// dup'd from an event's or inherited by a fork, which reads as the
// placeholder it is.
func init() {
	register(sysPerfEventOpen, unix.SYS_PERF_EVENT_OPEN)
	register(perfOr(perfRead), unix.SYS_READ)
	register(perfOr(perfIoctl), unix.SYS_IOCTL)
	register(perfOr(perfClose), unix.SYS_CLOSE)
	register(perfReplaced, unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_CLOSE_RANGE)
}

// perfReplaced serves dup2, dup3 and close_range: the descriptors they
// close stop being events', lest a file that reuses the number be read as
// one; close_range's CLOSE_RANGE_CLOEXEC makes them close-on-exec.
func perfReplaced(c *Call) int64 {
	tb := &c.T.Proc.Perf
	if tb.N.Load() == 0 {
		return offload(c)
	}
	ret := offloadCall(c, c.Nr, c.Args)
	if ret < 0 {
		return ret
	}
	lo, hi := uint32(c.Args[1]), uint32(c.Args[1])
	if c.Nr == unix.SYS_CLOSE_RANGE {
		lo = uint32(c.Args[0])
	} else if uint32(c.Args[0]) == lo {
		return ret // dup2 of a descriptor onto itself closes nothing
	}
	tb.Mu.Lock()
	defer tb.Mu.Unlock()
	for _, e := range append([]*perf.Event(nil), tb.Events...) {
		if fd := uint32(e.FD); fd < lo || fd > hi {
			continue
		}
		if c.Nr == unix.SYS_CLOSE_RANGE && c.Args[2]&unix.CLOSE_RANGE_CLOEXEC != 0 {
			e.Cloexec = true
			continue
		}
		settle(c, tb.Group(e.Leader))
		tb.Remove(e)
	}
	return ret
}

// perfOr serves a call on a descriptor (argument 0) with h when it is a
// perf event's, else offloads it.
func perfOr(h func(c *Call, e *perf.Event) int64) handler {
	return func(c *Call) int64 {
		tb := &c.T.Proc.Perf
		if tb.N.Load() == 0 {
			return offload(c)
		}
		tb.Mu.Lock()
		e := tb.Lookup(int(int32(c.Args[0])))
		if e == nil {
			tb.Mu.Unlock()
			return offload(c)
		}
		defer tb.Mu.Unlock()
		c.servedLocally = true
		return h(c, e)
	}
}

// perfAttr is the part of perf_event_attr the LWK reads.
type perfAttr struct {
	typ                        uint32
	config, period, sampleType uint64
	readFormat, flags          uint64
	reserved2                  uint16
	reserved3                  uint32
	raw                        []byte
}

// readPerfAttr copies in the attr as Linux's perf_copy_attr does: a size
// of 0 means the first version; a smaller one, or a larger one with
// nonzero bytes past what this kernel knows, is E2BIG, and the kernel's
// size is written back for the caller to retry.
func readPerfAttr(c *Call, addr uint64) (perfAttr, int64) {
	var a perfAttr
	var head [8]byte
	if r := copyIn(c, addr, head[:]); r < 0 {
		return a, r
	}
	size := uint64(binary.LittleEndian.Uint32(head[perf.OffSize:]))
	if size == 0 {
		size = perf.AttrSizeVer0
	}
	if size < perf.AttrSizeVer0 || size > perf.AttrMaxSize {
		putUint32(c, addr+perf.OffSize, perf.AttrSize)
		return a, -int64(unix.E2BIG)
	}
	buf := make([]byte, size)
	if r := copyIn(c, addr, buf); r < 0 {
		return a, r
	}
	for _, b := range buf[min(size, perf.AttrSize):] {
		if b != 0 {
			putUint32(c, addr+perf.OffSize, perf.AttrSize)
			return a, -int64(unix.E2BIG)
		}
	}
	full := make([]byte, max(size, perf.AttrSize))
	copy(full, buf)
	le := binary.LittleEndian
	a = perfAttr{typ: le.Uint32(full[perf.OffType:]), config: le.Uint64(full[perf.OffConfig:]),
		period: le.Uint64(full[perf.OffSamplePer:]), sampleType: le.Uint64(full[perf.OffSampleType:]),
		readFormat: le.Uint64(full[perf.OffReadFormat:]), flags: le.Uint64(full[perf.OffFlags:]),
		reserved2: le.Uint16(full[perf.OffReserved2:]), reserved3: le.Uint32(full[perf.OffReserved3:]), raw: buf}
	if a.flags&perf.FlagsReserved != 0 || a.reserved2 != 0 || a.reserved3 != 0 ||
		a.sampleType&^(perf.SampleMax-1) != 0 || a.readFormat&^(perf.FormatMax-1) != 0 {
		return a, -int64(unix.EINVAL)
	}
	return a, 0
}

func sysPerfEventOpen(c *Call) int64 {
	pid, cpu, groupFD, flags := int(int32(c.Args[1])), int(int32(c.Args[2])), int(int32(c.Args[3])), c.Args[4]
	if flags&^perf.FlagsAll != 0 {
		return -int64(unix.EINVAL)
	}
	a, r := readPerfAttr(c, c.Args[0])
	if r < 0 {
		return r
	}
	if a.flags&perf.FlagExclKernel == 0 && c.T.Proc.Cred.EUID != 0 && perfParanoid() > 1 {
		return -int64(unix.EACCES) // perf_allow_kernel's: counting the kernel is root's here
	}
	if a.flags&perf.FlagFreq == 0 && a.period&(1<<63) != 0 {
		return -int64(unix.EINVAL)
	}
	if flags&perf.FlagPIDCgroup != 0 && (pid == -1 || cpu == -1) {
		return -int64(unix.EINVAL)
	}
	var ev perf.LWKEvent
	switch {
	case a.typ == perf.TypeSoftware:
		if a.config >= perf.SWMax {
			return -int64(unix.ENOENT)
		}
		ev.Counter = perf.SoftwareEvents[a.config].Counter
	case a.typ == c.Env.LWKType:
		if ev, r = lwkEventOf(a.config); r < 0 {
			return r
		}
	case countedOnStub(a.typ) && pid != -1 && cpu == -1 && a.period == 0:
		ev.Counter = perf.CountHost
	default:
		return probeOnLinux(a, pid, cpu, flags)
	}
	tb := &c.T.Proc.Perf
	tb.Mu.Lock()
	defer tb.Mu.Unlock()
	var leader *perf.Event
	if groupFD != -1 {
		if leader = tb.Lookup(groupFD); leader == nil {
			return -int64(unix.EBADF) // Linux cannot tell a closed fd from a foreign one here
		}
		if flags&perf.FlagFDNoGroup != 0 {
			leader = nil // group_fd names an output only, which counting does not use
		}
	}
	e := &perf.Event{ID: perf.NewID(), Type: a.typ, Config: a.config, Counter: ev.Counter, ReadFormat: a.readFormat,
		On: a.flags&perf.FlagDisabled == 0, EnableExec: a.flags&perf.FlagEnableOnExec != 0,
		Cloexec: flags&perf.FlagFDCloexec != 0, Inherit: a.flags&perf.FlagInherit != 0, CPU: -1, Owner: tb}
	if ev.Counter.PerSyscall() {
		_, e.Nr = perf.LWKEventOf(a.config)
	}
	if r := perfTarget(c, e, ev, pid, cpu); r < 0 {
		return r
	}
	if a.period != 0 {
		return -int64(unix.EOPNOTSUPP) // sampling: not yet
	}
	if leader != nil && (leader.Leader != leader || leader.TID != e.TID || leader.CPU != e.CPU) {
		return -int64(unix.EINVAL) // a group counts one thread or CPU, as on Linux
	}
	if ev.Counter == perf.CountHost {
		if r := openOnStub(c, e, leader, a.raw); r < 0 {
			return r
		}
	}
	efd := uint64(unix.EFD_NONBLOCK)
	if flags&perf.FlagFDCloexec != 0 {
		efd |= unix.EFD_CLOEXEC
	}
	fd := offloadCall(c, unix.SYS_EVENTFD2, [6]uint64{0, efd})
	if fd < 0 {
		if e.Host != nil {
			e.Host.Close()
		}
		return fd
	}
	e.FD = int(fd)
	e.Leader = e
	if leader != nil {
		e.Leader = leader
	}
	if e.Host != nil {
		startOnStub(c, e)
	}
	settle(c, []*perf.Event{e})
	tb.Add(e)
	for _, tg := range e.Targets {
		tg.In.Watch(e)
	}
	return fd
}

// perfParanoid is the host's kernel.perf_event_paranoid, which rules the
// app's events as it rules Linux's: the daemon, root, is not ruled by it.
// Unreadable, it is Linux's default, 2.
func perfParanoid() int {
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return 2
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 2
	}
	return n
}

// countedOnStub says events of type typ are Linux's to count, on the stub
// threads: hardware, cache and raw events, and the host's dynamic PMUs'
// (the lwk PMU's type is matched before).
func countedOnStub(typ uint32) bool {
	switch typ {
	case perf.TypeHardware, perf.TypeHWCache, perf.TypeRaw:
		return true
	}
	return typ >= perf.TypeMax
}

// openOnStub makes e's Linux counter from the app's attr and opens it on
// the stub thread of its target's CPU, for Linux's verdict: the errno the
// app gets. A Linux event in the group of another follows it in a Linux
// group too.
func openOnStub(c *Call, e, leader *perf.Event, attr []byte) int64 {
	var lead *stubcount.Counter
	if leader != nil {
		lead = leader.Host
	}
	e.Host = stubcount.New(attr, lead)
	t := targetThread(c, e.Targets[0])
	if t == nil || t.Proc.StubOn(t.CPU) == nil { // ending, or not placed yet: the caller's stub stands in
		t = c.T
	}
	stub := t.Proc.StubOn(t.CPU)
	if err := e.Host.Open(stub.PID); err != nil {
		e.Host.Close()
		return errno(err)
	}
	return 0
}

// startOnStub has e's Linux counter count its target from now: the
// calling thread is in its stub already (the one openOnStub opened on),
// another thread from its next load. A failed first read leaves the run
// uncounted, as on the switch path.
func startOnStub(c *Call, e *perf.Event) {
	e.Host.Watch(e.TID)
	if e.TID == c.T.TID {
		_ = e.Host.Begin(e.TID, c.T.Proc.StubOn(c.T.CPU).PID)
	}
}

// lwkEventOf checks an lwk PMU config: a known event id, the nr field for
// the per-syscall ones only and then below the system call table's size,
// no bit past the format's fields. A config the PMU does not know is
// EINVAL, as Linux's dynamic PMUs answer one (msr, power): ENOENT would
// say the type is no PMU's.
func lwkEventOf(config uint64) (perf.LWKEvent, int64) {
	id, nr := perf.LWKEventOf(config)
	ev, ok := perf.LWKEventByID(id)
	if !ok || config>>20 != 0 || nr != 0 && !ev.PerSyscall || nr >= stats.MaxSyscall {
		return ev, -int64(unix.EINVAL)
	}
	return ev, 0
}

// perfTarget sets what e counts from perf_event_open's pid and cpu: the
// calling thread (pid 0), another LWK thread (as Linux allows: the same
// uid, or root), or with pid -1 an LWK CPU (cpu, a host CPU number as
// the app's affinity masks name them), for the LWK events its counters
// have. Idle time is a CPU's only.
func perfTarget(c *Call, e *perf.Event, ev perf.LWKEvent, pid, cpu int) int64 {
	if pid == -1 {
		i := slices.Index(c.Env.HostCPUs, cpu)
		switch {
		case cpu == -1 || cpu < -1:
			return -int64(unix.EINVAL)
		case e.Type != c.Env.LWKType:
			return -int64(unix.EOPNOTSUPP) // cpu-wide software events: not yet
		case i < 0:
			return -int64(unix.ENODEV) // not an LWK CPU: none of this PMU's
		case !e.Counter.OnCPU():
			return -int64(unix.EINVAL)
		}
		e.CPU = i
		e.Targets = []perf.Target{{In: &c.T.Proc.Perf}}
		return 0
	}
	t := c.T
	if pid != 0 {
		if t = ownThread(c, pid); t == nil {
			t = c.Env.Kernel.FindThread(pid)
		}
		if t == nil || pid < 0 {
			return -int64(unix.ESRCH)
		}
		if cr := c.T.Proc.Cred; cr.EUID != 0 && cr.UID != t.Proc.Cred.UID {
			return -int64(unix.EACCES) // ptrace_may_access's answer
		}
	}
	switch {
	case cpu < -1 || cpu >= len(c.Env.HostCPUs):
		return -int64(unix.EINVAL)
	case cpu != -1:
		return -int64(unix.EOPNOTSUPP) // bound to a CPU: not yet
	case ev.CPUOnly:
		return -int64(unix.EINVAL)
	}
	e.TID = t.TID
	e.Targets = []perf.Target{{PID: t.Proc.PID, TID: t.TID, In: &t.Proc.Perf}}
	return 0
}

// probeOnLinux opens an event the LWK does not count yet on Linux, for
// the daemon itself, to return Linux's errno where Linux has no such
// event; EOPNOTSUPP where it has.
func probeOnLinux(a perfAttr, pid, cpu int, flags uint64) int64 {
	var attr unix.PerfEventAttr
	copy(bytesOf(&attr), a.raw)
	attr.Size = uint32(min(len(a.raw), int(unsafe.Sizeof(attr))))
	if pid != 0 && pid != -1 {
		pid = 0 // the app's thread is not Linux's; the daemon stands for it
	}
	fd, err := unix.PerfEventOpen(&attr, pid, cpu, -1, int(flags&perf.FlagFDCloexec))
	if err != nil {
		return errno(err)
	}
	unix.Close(fd)
	return -int64(unix.EOPNOTSUPP) // tracepoints, breakpoints, cpu-wide, bound to a CPU, sampling: not yet
}

// perfRead is read(2) on an event: its value, or its group's, in the
// layout read_format asks for; ENOSPC when the buffer is too small.
func perfRead(c *Call, e *perf.Event) int64 {
	f := e.ReadFormat
	members := []*perf.Event{e}
	if f&perf.FormatGroup != 0 {
		members = c.T.Proc.Perf.Group(e.Leader)
	}
	settle(c, members)
	var out []byte
	put := func(v uint64) { out = binary.LittleEndian.AppendUint64(out, v) }
	times := func(m *perf.Event) {
		if f&perf.FormatTotalTimeEnabled != 0 {
			put(m.Enabled)
		}
		if f&perf.FormatTotalTimeRunning != 0 {
			put(m.Running)
		}
	}
	idLost := func(m *perf.Event) {
		if f&perf.FormatID != 0 {
			put(m.ID)
		}
		if f&perf.FormatLost != 0 {
			put(0)
		}
	}
	if f&perf.FormatGroup == 0 {
		put(e.Count)
		times(e)
		idLost(e)
	} else {
		// A group's times are its leader's, as Linux reads them.
		put(uint64(len(members)))
		times(e.Leader)
		for _, m := range members {
			put(m.Count)
			idLost(m)
		}
	}
	if c.Args[2] < uint64(len(out)) {
		return -int64(unix.ENOSPC)
	}
	if r := copyOut(c, c.Args[1], out); r < 0 {
		return r
	}
	return int64(len(out))
}

// perfIoctl serves the ioctls of an event; with PERF_IOC_FLAG_GROUP,
// ENABLE, DISABLE and RESET act on its whole group.
func perfIoctl(c *Call, e *perf.Event) int64 {
	req, arg := uint32(c.Args[1]), c.Args[2]
	targets := []*perf.Event{e}
	if arg&perf.IocFlagGroup != 0 {
		targets = c.T.Proc.Perf.Group(e.Leader)
	}
	var change func(m *perf.Event)
	switch req {
	case perf.IocEnable:
		change = func(m *perf.Event) { m.On, m.EnableExec = true, false }
	case perf.IocDisable:
		change = func(m *perf.Event) { m.On = false }
	case perf.IocReset:
		change = func(m *perf.Event) { m.Count = 0 }
	case perf.IocID:
		return putUint64(c, arg, e.ID)
	case perf.IocSetOutput:
		// Only the redirect's removal succeeds: an event to redirect to
		// needs a ring buffer, which counting events have not.
		// The argument is a full word: an int -1 is fd 0xffffffff.
		switch {
		case arg == ^uint64(0):
			return 0
		case arg > 1<<31 || c.T.Proc.Perf.Lookup(int(arg)) == nil:
			return -int64(unix.EBADF)
		}
		return -int64(unix.EINVAL)
	case perf.IocRefresh, perf.IocPeriod, perf.IocSetFilter, perf.IocPauseOutput, perf.IocQueryBPF, perf.IocSetBPF:
		// Sampling, ring buffers, filters and BPF: not for counting
		// events (nor is a BPF program an LWK app may hold).
		return -int64(unix.EINVAL)
	case perf.IocModifyAttributes:
		// Linux modifies breakpoints only.
		a, r := readPerfAttr(c, arg)
		switch {
		case r < 0:
			return r
		case a.typ != e.Type:
			return -int64(unix.EINVAL)
		}
		return -int64(unix.EOPNOTSUPP)
	default:
		return -int64(unix.ENOTTY)
	}
	// A change to a leader changes what its members count: fold theirs first.
	settle(c, c.T.Proc.Perf.Group(e.Leader))
	for _, m := range targets {
		change(m)
	}
	return 0
}

// perfClose forgets the event and has mcexec close the placeholder: the
// call counts as offloaded.
func perfClose(c *Call, e *perf.Event) int64 {
	tb := &c.T.Proc.Perf
	settle(c, tb.Group(e.Leader))
	tb.Remove(e)
	c.servedLocally = false
	return offloadCall(c, unix.SYS_CLOSE, c.Args)
}
