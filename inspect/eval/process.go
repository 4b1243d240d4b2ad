package eval

import (
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/op"
	"github.com/go-delve/delve/pkg/elfwriter"
	"github.com/go-delve/delve/pkg/proc"
)

// ErrReadOnly is what every operation that would change the target returns:
// the evaluator reads memory and nothing else.
var ErrReadOnly = errors.New("eval: the target is read-only: it is never stopped, written, resumed or given breakpoints")

// syntheticThreadID is the ID of the one thread the backend shows Delve.
// Evaluation needs a thread to build a scope from, but only globals are
// meaningful without stopping the target, so the thread is not a real one.
const syntheticThreadID = 1

// memoryProcess is a Delve backend (proc.ProcessInternal) over a Memory: a
// process that is never stopped, never written and has no usable threads,
// the way Delve's core-file backend is a process that never runs.
//
// Delve's interface also names two eBPF tracing methods whose argument
// types live in an internal package that no outside backend can spell.
// They come from the embedded nil interface and would panic if called;
// Delve calls them only when SupportsBPF is true, which it never is here.
type memoryProcess struct {
	proc.ProcessInternal

	mem         Memory
	bi          *proc.BinaryInfo
	entryPoint  uint64
	thread      *syntheticThread
	breakpoints proc.BreakpointMap
}

func newMemoryProcess(mem Memory, bi *proc.BinaryInfo, entryPoint uint64) *memoryProcess {
	p := &memoryProcess{mem: mem, bi: bi, entryPoint: entryPoint, breakpoints: proc.NewBreakpointMap()}
	p.thread = &syntheticThread{p: p}
	return p
}

// Process: what Delve's clients may call.

func (p *memoryProcess) BinInfo() *proc.BinaryInfo               { return p.bi }
func (p *memoryProcess) EntryPoint() (uint64, error)             { return p.entryPoint, nil }
func (p *memoryProcess) ThreadList() []proc.Thread               { return []proc.Thread{p.thread} }
func (p *memoryProcess) Breakpoints() *proc.BreakpointMap        { return &p.breakpoints }
func (p *memoryProcess) Memory() proc.MemoryReadWriter           { return p }
func (p *memoryProcess) WriteMemory(uint64, []byte) (int, error) { return 0, ErrReadOnly }

func (p *memoryProcess) FindThread(threadID int) (proc.Thread, bool) {
	if threadID != syntheticThreadID {
		return nil, false
	}
	return p.thread, true
}

// ReadMemory reports a short read as an error, as Delve's backends do: its
// variable loader takes a nil error to mean the whole buffer was filled.
func (p *memoryProcess) ReadMemory(buf []byte, addr uint64) (int, error) {
	n, err := p.mem.ReadMemory(buf, addr)
	if err == nil && n != len(buf) {
		err = fmt.Errorf("short read at %#x: %d of %d bytes", addr, n, len(buf))
	}
	return n, err
}

// ProcessInternal: what Delve itself calls.

func (p *memoryProcess) Valid() (bool, error)                              { return true, nil }
func (p *memoryProcess) RequestManualStop(*proc.ContinueOnceContext) error { return nil }
func (p *memoryProcess) WriteBreakpoint(*proc.Breakpoint) error            { return ErrReadOnly }
func (p *memoryProcess) EraseBreakpoint(bp *proc.Breakpoint) error {
	return proc.NoBreakpointError{Addr: bp.Addr}
}
func (p *memoryProcess) SupportsBPF() bool                   { return false }
func (p *memoryProcess) StartCallInjection() (func(), error) { return nil, ErrReadOnly }
func (p *memoryProcess) FollowExec(bool) error               { return nil }
func (p *memoryProcess) MemoryMap() ([]proc.MemoryMapEntry, error) {
	return nil, proc.ErrMemoryMapNotSupported
}
func (p *memoryProcess) DumpProcessNotes(notes []elfwriter.Note, _ func()) (bool, []elfwriter.Note, error) {
	return false, notes, ErrReadOnly
}

// ProcessGroup: resuming the group.

func (p *memoryProcess) ContinueOnce(*proc.ContinueOnceContext) (proc.Thread, proc.StopReason, error) {
	return nil, proc.StopUnknown, ErrReadOnly
}
func (p *memoryProcess) StepInstruction(int) error { return ErrReadOnly }
func (p *memoryProcess) Detach(int, bool) error    { return nil }
func (p *memoryProcess) Close() error              { return nil }

// syntheticThread is the single thread Delve needs to build an evaluation
// scope. It has all-zero registers: there is no stopped thread whose
// registers could be read, and globals need none.
type syntheticThread struct {
	p      *memoryProcess
	common proc.CommonThread
}

func (t *syntheticThread) Breakpoint() *proc.BreakpointState      { return &proc.BreakpointState{} }
func (t *syntheticThread) ThreadID() int                          { return syntheticThreadID }
func (t *syntheticThread) Registers() (proc.Registers, error)     { return zeroRegisters{}, nil }
func (t *syntheticThread) RestoreRegisters(proc.Registers) error  { return ErrReadOnly }
func (t *syntheticThread) BinInfo() *proc.BinaryInfo              { return t.p.bi }
func (t *syntheticThread) ProcessMemory() proc.MemoryReadWriter   { return t.p }
func (t *syntheticThread) SetCurrentBreakpoint(bool) error        { return nil }
func (t *syntheticThread) SoftExc() bool                          { return false }
func (t *syntheticThread) Common() *proc.CommonThread             { return &t.common }
func (t *syntheticThread) SetReg(uint64, *op.DwarfRegister) error { return ErrReadOnly }

// zeroRegisters is the register set of the synthetic thread.
type zeroRegisters struct{}

func (zeroRegisters) PC() uint64                          { return 0 }
func (zeroRegisters) SP() uint64                          { return 0 }
func (zeroRegisters) BP() uint64                          { return 0 }
func (zeroRegisters) LR() uint64                          { return 0 }
func (zeroRegisters) TLS() uint64                         { return 0 }
func (zeroRegisters) GAddr() (uint64, bool)               { return 0, false }
func (zeroRegisters) Slice(bool) ([]proc.Register, error) { return nil, nil }
func (r zeroRegisters) Copy() (proc.Registers, error)     { return r, nil }
