package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
)

// Serve answers control connections until a shutdown request; it returns
// after the instance has been shut down.
func (k *OS) Serve(l *control.Listener) {
	stop := make(chan struct{})
	k.background("control", func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			k.background("control", func() { k.serveConn(c, stop) })
		}
	})
	<-stop
	k.Shutdown()
	l.Close()
}

// serveConn serves a connection's request; a child proxy asks again on the
// same connection for its next job, once its process ended (a forking loop
// would otherwise cost a connection a fork).
func (k *OS) serveConn(c *control.Conn, stop chan struct{}) {
	defer c.Close()
	for k.serveRequest(c, stop) {
	}
	k.closeSession(c)
}

// serveRequest serves one request and reports whether c may bring another.
func (k *OS) serveRequest(c *control.Conn, stop chan struct{}) (again bool) {
	var req control.Request
	fds, err := c.Recv(&req)
	if err != nil {
		return false
	}
	reply := func(text string, data any, err error) {
		resp := control.Response{OK: err == nil, Text: text}
		if err != nil {
			resp.Error = err.Error()
		}
		if data != nil {
			resp.Data, _ = json.Marshal(data)
		}
		c.Send(resp)
	}
	switch req.Op {
	case control.OpExec:
		k.serveExec(c, req, fds)
		return false
	case control.OpAttach:
		return k.serveAttach(c, req)
	case control.OpGcore:
		res, err := k.serveGcore(c, req, fds)
		reply("", res, err)
		return false
	case control.OpStatus:
		st := k.status()
		reply(formatStatus(st), st, nil)
	case control.OpKmsg:
		reply(k.Kmsg.String(), nil, nil)
	case control.OpClearKmsg:
		k.Kmsg.Clear()
		reply("", nil, nil)
	case control.OpQueryCPU:
		reply(partition.FormatCPUList(k.Config.CPUs), k.Config.CPUs, nil)
	case control.OpQueryMem:
		var parts []string
		for _, ch := range k.Mem.Chunks {
			parts = append(parts, fmt.Sprintf("%s@%d", partition.FormatSize(ch.Size), ch.Node))
		}
		reply(strings.Join(parts, ","), k.Mem.Chunks, nil)
	case control.OpQueryFreeMem:
		free := k.Alloc.FreePages() * mm.PageSize
		reply(fmt.Sprint(free), free, nil)
	case control.OpCountingOn, control.OpCountingOff:
		on := req.Op == control.OpCountingOn
		k.Env.Uncounted.Store(!on)
		k.Kmsg.Printf("syscall counting %s", map[bool]string{true: "on", false: "off"}[on])
		reply("", nil, nil)
	case control.OpPanic:
		reply("", nil, nil)
		k.CPUs[0].Go(func() { panic("ihkosctl panic") })
	case control.OpShutdown:
		reply("", nil, nil)
		select {
		case <-stop:
		default:
			close(stop)
		}
	default:
		reply("", nil, fmt.Errorf("unknown request %q", req.Op))
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return false
}

// serveExec creates the process, hands mcexec the partition and channel,
// forwards its signals, and reports the exit. If mcexec goes away, the
// process is killed and its memory freed.
func (k *OS) serveExec(c *control.Conn, req control.Request, fds []int) {
	fail := func(err error) {
		c.Send(control.Response{Error: err.Error()})
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	if len(fds) != 1 {
		fail(errors.New("exec request without the executable's descriptor"))
		return
	}
	if k.state() != "RUNNING" {
		fail(errShutdown)
		return
	}
	// exe owns the descriptor from here on: fail would close its number
	// a second time, by then perhaps another descriptor's (a stub's
	// ForkExec pipe read EBADF so, and its stub was left behind).
	exe := os.NewFile(uintptr(fds[0]), req.Exe)
	defer exe.Close()
	p, err := k.spawn(ExecRequest{Req: req, Exe: exe})
	if err != nil {
		c.Send(control.Response{Error: err.Error()})
		return
	}
	if err := c.Send(control.Response{OK: true, PID: p.PID}, k.Mem.FD, p.Chan.FD); err != nil {
		k.kill(p, int(unix.SIGKILL))
	}
	k.serveProcess(c, p)
	p.Chan.Close()
}

// serveAttach hands a forked process to the child proxy its parent's
// mcexec started, with the segments to mirror, then serves it as an exec.
func (k *OS) serveAttach(c *control.Conn, req control.Request) (again bool) {
	cred, err := unix.GetsockoptUcred(c.FD(), unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		c.Send(control.Response{Error: err.Error()})
		return false
	}
	k.openSession(int(cred.Pid), c)
	p, segs, ended, err := k.attach(req.Token, int(cred.Pid))
	if errors.Is(err, errNoEmbryo) {
		// The fork failed after mcexec handed the proxy its job (the copy
		// ran out of memory), or was given up: nothing to serve, as for a
		// process that ended before its proxy came. The proxy goes back
		// to idle without a word among the app's output.
		return k.sendExit(c, control.Response{OK: true, Ended: true}, k.takeProfile(req.Token)) == nil
	}
	if err != nil {
		c.Send(control.Response{Error: err.Error()})
		return false
	}
	if ended {
		return k.sendExit(c, control.Response{OK: true, PID: p.PID, Ended: true, ExitCode: p.ExitCode, ExitSignal: p.ExitSignal},
			p.Profile.Report(p.PID, p.Exe)) == nil
	}
	out, fds, err := attachSegments(segs, k.Mem.FD, p.Chan.FD)
	if err != nil {
		c.Send(control.Response{Error: err.Error()})
		k.kill(p, int(unix.SIGKILL))
		return false
	}
	if err := c.Send(control.Response{OK: true, PID: p.PID, Segments: out}, fds...); err != nil {
		k.kill(p, int(unix.SIGKILL))
	}
	if k.serveProcess(c, p) {
		return true // the proxy's next attach comes on c
	}
	p.Chan.Close()
	return false
}

// attachSegments says a forked process's segments as the attach reply
// carries them, with the descriptors it sends: fds, then each file that
// shared file mappings map, once.
func attachSegments(segs []mm.MappedSegment, fds ...int) ([]control.Segment, []int, error) {
	out := make([]control.Segment, len(segs))
	files := map[*mm.FileMap]int{}
	for i, s := range segs {
		out[i] = control.Segment{VA: s.VA, Len: s.Len, Off: s.Off}
		if s.File == nil {
			continue
		}
		if s.File.SysV {
			out[i].SysV, out[i].ShmID, out[i].ShmFlags = true, s.File.ShmID, lwkabi.ShmFlags(s.Prot)
			continue
		}
		if files[s.File] == 0 {
			fds = append(fds, s.File.FD)
			files[s.File] = len(files) + 1
		}
		out[i].File = files[s.File]
	}
	if len(fds) > control.MaxFDs {
		return nil, nil, fmt.Errorf("the forked process maps %d files shared: more than a reply carries", len(files))
	}
	return out, fds, nil
}

// serveProcess forwards the proxy's signals to p and reports p's exit; if
// the proxy goes away, p is killed. It returns once nothing reads p's
// channel any more, reporting whether the proxy detached (OpDetach) and
// keeps the connection for another process; p's channel then went to the
// proxy's session (recycle).
func (k *OS) serveProcess(c *control.Conn, p *task.Process) (detached bool) {
	gone := make(chan struct{})
	k.background(fmt.Sprintf("signals of pid %d", p.PID), func() {
		defer close(gone)
		for {
			var m control.Request
			rfds, err := c.Recv(&m)
			for _, fd := range rfds {
				unix.Close(fd)
			}
			if err != nil {
				return
			}
			switch {
			case m.Op == control.OpDetach:
				select {
				case <-p.Done():
				default:
					return // while p runs: as if the proxy went away
				}
				// At once, not on serveProcess's way out: the proxy's
				// next process may be forked any moment now.
				detached = true
				p.Offloads.Wait()
				k.recycle(p)
				return
			case m.Op == control.OpSignal && m.Signal > 0 && m.Signal < 65:
				k.Kmsg.Printf("pid %d: signal %d forwarded by mcexec", p.PID, m.Signal)
				k.kill(p, m.Signal)
			}
		}
	})
	select {
	case <-p.Done():
		k.sendExit(c, control.Response{OK: true, PID: p.PID, ExitCode: p.ExitCode, ExitSignal: p.ExitSignal},
			p.Profile.Report(p.PID, p.Exe))
		// Closing with a forwarded signal unread would reset the
		// connection before mcexec reads the exit: let it hang up, or
		// detach, first.
		select {
		case <-gone:
		case <-time.After(time.Second):
		}
	case <-gone:
		k.Kmsg.Printf("pid %d: mcexec went away; killing the process", p.PID)
		k.kill(p, int(unix.SIGKILL))
		<-p.Done()
	}
	// The reader must be done with the descriptor before serveConn closes
	// it: the next connection may get its number at once, and a late read
	// would steal that connection's request.
	select {
	case <-gone:
	default:
		unix.Shutdown(c.FD(), unix.SHUT_RD)
		<-gone
	}
	p.Offloads.Wait() // parked offloads still read the channel
	return detached
}

func (k *OS) status() control.Status {
	st := control.Status{State: k.state(), Instance: k.Index, DaemonPID: os.Getpid(), CPUs: k.Config.CPUs,
		MemTotal: uint64(k.Mem.Size), MemFree: k.Alloc.FreePages() * mm.PageSize,
		MemLargest: k.Alloc.Largest() * mm.PageSize, Uptime: time.Since(time.Unix(0, k.BootTime)).Seconds(),
		Uncounted: k.Env.Uncounted.Load()}
	for _, c := range k.CPUs {
		if s := c.Spare; s != nil {
			st.SpareStubs = append(st.SpareStubs, s.HostTID())
		}
	}
	k.Alloc.Lock()
	for _, n := range k.Alloc.Nodes {
		st.Nodes = append(st.Nodes, control.NodeUsage{Node: n.Node, Total: n.Pages * mm.PageSize, Free: n.Free * mm.PageSize})
	}
	k.Alloc.Unlock()
	for _, p := range k.Procs.List() {
		rss, vsz := p.MM.Usage()
		pi := control.ProcInfo{PID: p.PID, PPID: p.PPID, Exe: p.Exe, Threads: len(p.Threads), RSS: rss, VSZ: vsz}
		if s := p.Stub; s != nil {
			pi.StubPID = s.PID
		}
		for _, t := range p.Threads {
			pi.Local += t.Stats.LocalCalls
			pi.Offload += t.Stats.OffloadCalls
		}
		st.Processes = append(st.Processes, pi)
	}
	return st
}

func formatStatus(st control.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %s\n", st.State)
	fmt.Fprintf(&b, "cpus: %s\n", partition.FormatCPUList(st.CPUs))
	fmt.Fprintf(&b, "memory: total %s, used %s, free %s (largest free run %s)\n",
		partition.FormatSize(int64(st.MemTotal)), partition.FormatSize(int64(st.MemTotal-st.MemFree)),
		partition.FormatSize(int64(st.MemFree)), partition.FormatSize(int64(st.MemLargest)))
	if st.Uncounted {
		b.WriteString("counting: off\n")
	}
	fmt.Fprintf(&b, "processes: %d\n", len(st.Processes))
	for _, p := range st.Processes {
		fmt.Fprintf(&b, "  pid %d ppid %d threads %d rss %s %s\n", p.PID, p.PPID, p.Threads, partition.FormatSize(int64(p.RSS)), p.Exe)
	}
	return b.String()
}

var errShutdown = errors.New("instance is shutting down")
