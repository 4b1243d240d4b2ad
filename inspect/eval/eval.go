package eval

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/proc"

	"github.com/gomck/gomck/inspect"
)

// Limits bound how much of a value Eval loads, as dlv's config options of
// the same names do.
type Limits struct {
	MaxStringLen       int // bytes of a string loaded
	MaxArrayValues     int // elements of an array, slice or map loaded
	MaxVariableRecurse int // levels of nested structs, pointers and elements loaded
}

// DefaultLimits are dlv print's defaults.
var DefaultLimits = Limits{MaxStringLen: 64, MaxArrayValues: 64, MaxVariableRecurse: 1}

// Evaluator evaluates Go expressions on the target's global state. It is not
// safe for concurrent use: Delve's evaluation scope is not.
type Evaluator struct {
	Limits Limits

	mem   Memory
	probe uint64 // an address in the target's data segment; see checkAlive
	scope *proc.EvalScope
	exe   *elf.File
	image *inspect.Image
	bi    *proc.BinaryInfo
}

// New loads the DWARF of exePath, the executable the target runs, and
// returns an evaluator reading the target through mem. The executable must
// not be position-independent: its load address would have to come from
// the target, which Memory does not give (the gomck daemon is not a PIE).
func New(exePath string, mem Memory) (*Evaluator, error) {
	exe, err := elf.Open(exePath)
	if err != nil {
		return nil, fmt.Errorf("eval: open executable: %w", err)
	}
	e, err := newEvaluator(exePath, exe, mem)
	if err != nil {
		exe.Close()
		return nil, err
	}
	return e, nil
}

func newEvaluator(exePath string, exe *elf.File, mem Memory) (*Evaluator, error) {
	if exe.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("eval: %s is %v, not a fixed-address executable (ET_EXEC)", exePath, exe.Type)
	}
	goarch, ok := goarchOf[exe.Machine]
	if !ok {
		return nil, fmt.Errorf("eval: %s: unsupported machine %v", exePath, exe.Machine)
	}
	data := exe.Section(".data")
	if data == nil {
		return nil, fmt.Errorf("eval: %s has no .data section", exePath)
	}

	// Dumps leave out the read-only segments (code, rodata: string
	// literals, type data), which equal the file: those come from the
	// executable when the target lacks them.
	image, err := inspect.OpenImage(exePath, 0)
	if err != nil {
		return nil, fmt.Errorf("eval: open executable: %w", err)
	}
	bi := proc.NewBinaryInfo("linux", goarch, false)
	p := newMemoryProcess(inspect.Layers{mem, image}, bi, exe.Entry)
	_, addTarget := proc.NewGroup(p, proc.NewTargetGroupConfig{})
	target, err := addTarget(p, 0, p.thread, exePath, proc.StopAttached, "")
	if err != nil {
		bi.Close()
		image.Close()
		return nil, fmt.Errorf("eval: load debug info of %s: %w", exePath, err)
	}
	scope, err := globalScope(target)
	if err != nil {
		bi.Close()
		image.Close()
		return nil, err
	}
	return &Evaluator{Limits: DefaultLimits, mem: mem, probe: data.Addr, scope: scope, exe: exe, image: image, bi: bi}, nil
}

// Close releases the executable and its debug info.
func (e *Evaluator) Close() error {
	return errors.Join(e.bi.Close(), e.image.Close(), e.exe.Close())
}

// globalScope returns a scope that sees package-level variables only.
// Goroutine -1 is the current thread's scope; the synthetic thread's zero
// PC is in no function, but Delve looks up every identifier as a local
// first and fails without a function. So the scope is given main.main with
// the PC left outside it: no locals are visible, unqualified names resolve
// in package main, and true, false and nil work.
func globalScope(target *proc.Target) (*proc.EvalScope, error) {
	scope, err := proc.ConvertEvalScope(target, -1, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("eval: build global scope: %w", err)
	}
	mains, err := target.BinInfo().FindFunction("main.main")
	if err != nil {
		return nil, fmt.Errorf("eval: global scope: %w", err)
	}
	scope.Fn = mains[0]
	return scope, nil
}

var goarchOf = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}

// Eval evaluates expr, a Go expression over package-level variables with
// Delve's semantics (e.g. "kernel.Instance.CPUs[1].Current.TID"). Parts of
// the value that cannot be read are marked unreadable in the Result; Eval
// fails only when expr is not valid, cannot be evaluated, or the target's
// memory cannot be read at all (a process that exited).
func (e *Evaluator) Eval(expr string) (result *Result, err error) {
	if err := e.checkAlive(); err != nil {
		return nil, err
	}
	// A live target changes under the reader, so Delve may meet states no
	// stopped process shows; a bug it hits there must not take the
	// inspecting tool down.
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("eval %q: delve panicked: %v", expr, p)
		}
	}()
	v, err := e.scope.EvalExpression(expr, e.loadConfig())
	if err != nil {
		return nil, fmt.Errorf("eval %q: %w", expr, err)
	}
	return newResult(v), nil
}

// checkAlive reads one byte of the data segment, which every live process
// and every dump of it has: failing there means the target is gone, and
// that is worth an error rather than a value that is unreadable throughout.
func (e *Evaluator) checkAlive() error {
	var b [1]byte
	if _, err := e.mem.ReadMemory(b[:], e.probe); err != nil {
		return fmt.Errorf("eval: target memory unreadable (process gone?): %w", err)
	}
	return nil
}

func (e *Evaluator) loadConfig() proc.LoadConfig {
	return proc.LoadConfig{
		FollowPointers:     true,
		MaxVariableRecurse: e.Limits.MaxVariableRecurse,
		MaxStringLen:       e.Limits.MaxStringLen,
		MaxArrayValues:     e.Limits.MaxArrayValues,
		MaxStructFields:    -1,
	}
}
