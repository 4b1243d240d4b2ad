package kernel

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/elf"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// Layout of every app address space inside the window.
const (
	stackTop  = ikc.WindowEnd - 0x1000_0000
	stackSize = 8 << 20
	// stackPremap is populated at exec (McKernel's mcexec -s premap).
	stackPremap = 256 << 10
	mmapTop     = stackTop - stackSize - 0x1000_0000
)

// ExecRequest is what mcexec hands over to create a process.
type ExecRequest struct {
	Req control.Request
	Exe *os.File
}

// spawn creates a process for req on a CPU, loads its image and starts it.
// It returns once the process runs (or failed to start).
func (k *OS) spawn(req ExecRequest) (*task.Process, error) {
	p := task.NewProcess(req.Req.ProxyPID)
	p.PPID, p.ProxyPID = req.Req.ParentPID, req.Req.ProxyPID
	if req.Req.Profile {
		p.Profile = &stats.Profile{}
	}
	// A script runs its interpreter, as execve would have in mcexec.
	image, exe, argv, release, err := interpret(req.Exe, req.Req.Exe, req.Req.Argv)
	defer release() // once setup, which the spawn waits for, has loaded it
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Req.Exe, err)
	}
	req.Exe, req.Req.Argv = image, argv
	p.Exe, p.Args = exe, argv
	p.Cred = proxyCred(req.Req.ProxyPID, req.Req.Cred)
	for i := range p.Rlimits {
		if i < len(req.Req.Rlimits) {
			p.Rlimits[i] = unix.Rlimit{Cur: req.Req.Rlimits[i][0], Max: req.Req.Rlimits[i][1]}
		} else {
			unix.Getrlimit(i, &p.Rlimits[i])
		}
	}
	ch, err := ikc.Create(fmt.Sprintf("mcos%d-%d", k.Index, p.PID))
	if err != nil {
		return nil, err
	}
	p.Chan = ch
	if req.Req.PPN != 0 {
		if err := k.joinPartExec(p, req.Req.ParentPID, req.Req.PPN, req.Req.LocalRank); err != nil {
			ch.Close()
			return nil, err
		}
		k.Kmsg.Printf("pid %d: local rank %d of %d (parent %d) on cpus %s", p.PID, p.LocalRank, req.Req.PPN,
			req.Req.ParentPID, shareList(p.CPUShare))
	}
	c := k.leastLoadedOf(p.CPUShare, nil)
	atomic.AddInt32(&c.Load, 1)
	c.Threads.Add(1)
	p.Home = c.Index
	errc := make(chan error, 1)
	c.Go(func() {
		t, err := k.setup(c, p, req)
		errc <- err
		if err != nil {
			atomic.AddInt32(&c.Load, -1)
			c.Threads.Add(-1)
			return
		}
		c.Queue.Push(t)
	})
	if err := <-errc; err != nil {
		k.leavePartExec(p)
		ch.Close()
		return nil, err
	}
	return p, nil
}

// setup runs on the CPU's thread: stub, address space, image, stack.
func (k *OS) setup(c *CPU, p *task.Process, req ExecRequest) (*task.Thread, error) {
	begin := time.Now()
	stub, err := c.takeStub(k)
	if err != nil {
		return nil, err
	}
	p.Stub = task.NewContext(stub)
	p.SetStub(c.Index, p.Stub)
	t := &task.Thread{TID: p.PID, Proc: p, CPU: c.Index, Syscall: task.NoSyscall, Regs: stub.InitialRegs(),
		FPState: bytes.Clone(stub.InitialFP()), Affinity: p.CPUShare}
	m := &mirror{k: k, p: p, ch: p.Chan}
	p.MM = mm.NewAddressSpace(k.Alloc, k.Mem.Direct, m, mm.Layout{
		Min: ikc.WindowStart, Max: ikc.WindowEnd, MmapTop: mmapTop, FaultAround: 16,
		HeapExtend: max(req.Req.HeapExtend, mm.PageSize)})
	if err := k.loadImage(p, t, req.Exe, req.Req.Argv, req.Req.Env); err != nil {
		stub.Kill()
		stub.Release()
		p.MM.Release()
		return nil, err
	}
	p.Threads = []*task.Thread{t}
	k.Procs.Add(p)
	stats.Created(&k.Stats.Processes)
	stats.Created(&k.Stats.Threads)
	k.Kmsg.Printf("pid %d: %s started on cpu %d (stub %d, set up in %v)", p.PID, p.Exe, c.Index, p.Stub.PID, time.Since(begin).Round(time.Microsecond))
	return t, nil
}

// loadImage loads exe (and its interpreter) into p's empty address space,
// builds the initial stack and points t at the entry.
func (k *OS) loadImage(p *task.Process, t *task.Thread, exe io.ReaderAt, argv, envp []string) error {
	img, err := elf.Load(p.MM, exe, p.Exe, func(path string) (io.ReaderAt, func(), error) {
		// The interpreter path is Linux's: resolve it as the proxy's
		// credentials would by opening it read-only (world-readable libc).
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", p.Exe, err)
	}
	p.MM.SetBrk(img.BrkStart)
	// The stack VMA spans the rlimit, but only its top is populated now:
	// populating costs time at every exec and most programs use little.
	if _, err := p.MM.Map(mm.MapRequest{Addr: stackTop - stackSize, Length: stackSize, Fixed: true,
		Prot: unix.PROT_READ | unix.PROT_WRITE, Kind: mm.KindStack, Demand: true}); err != nil {
		return fmt.Errorf("%s: stack: %w", p.Exe, err)
	}
	if err := p.MM.Populate(stackTop-stackPremap, stackTop); err != nil {
		return fmt.Errorf("%s: stack: %w", p.Exe, err)
	}
	counters, err := mapCounters(p, t)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Exe, err)
	}
	execfn := p.Exe
	if len(argv) > 0 {
		execfn = argv[0]
	}
	si := elf.StackInfo{Argv: argv, Envp: envp, ExecFn: execfn, VDSO: p.Stub.VDSO(), HostAux: hostAux, LWKAux: [][2]uint64{counters},
		Cred: [4]uint64{uint64(p.Cred.UID), uint64(p.Cred.EUID), uint64(p.Cred.GID), uint64(p.Cred.EGID)}}
	rand.Read(si.Random[:])
	sp, auxv, err := elf.BuildStack(p.MM, stackTop, img, si)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Exe, err)
	}
	p.Auxv, p.VDSO, p.Env, p.StackStart = auxv, p.Stub.VDSO(), envp, sp
	tmpl := p.Stub.InitialRegs()
	t.Regs = unix.PtraceRegs{Cs: tmpl.Cs, Ss: tmpl.Ss, Ds: tmpl.Ds, Es: tmpl.Es, Fs: tmpl.Fs, Gs: tmpl.Gs,
		Rip: img.Entry, Rsp: sp, Eflags: 0x202, Orig_rax: ^uint64(0)}
	return nil
}

// hostAux carries the host's hardware capability words into app auxvs.
var hostAux = func() map[uint64]uint64 {
	m := map[uint64]uint64{}
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return m
	}
	for i := 0; i+16 <= len(b); i += 16 {
		key, val := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
		switch key {
		case elf.AT_HWCAP, elf.AT_HWCAP2, elf.AT_CLKTCK, elf.AT_MINSIGSTKSZ:
			m[key] = val
		}
	}
	return m
}()

// proxyCred are the credentials of mcexec (pid), which the app starts
// with; if its status cannot be read, the ids mcexec sent, and for root
// the capabilities exec gives root.
func proxyCred(pid int, ids [4]int) task.Cred {
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		if c, err := task.ProcStatusCred(status); err == nil {
			return c
		}
	}
	c := task.Cred{UID: ids[0], EUID: ids[1], GID: ids[2], EGID: ids[3]}
	c.Caps.Bounding = 1<<(task.CapLast+1) - 1
	c.Exec()
	return c
}
