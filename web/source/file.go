package source

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf/stat"
)

// Targets is a Source that can say how to open instance n's memory
// through the inspect layer again (for evaluating an expression as
// mcinspect --print does); the Poller and a file source are.
type Targets interface {
	TargetOptions(n int) (inspect.Options, bool)
}

// Pacer is a Source whose polls a reader can hurry (the Poller).
type Pacer interface {
	Pace(ctx context.Context, every time.Duration)
}

// File is a dump (an LWK kernel dump or a core of the daemon) or an app
// core, read once: one instance, with Status StatusDump, and no updates.
type File struct {
	path  string
	inst  Instance
	never chan struct{}
	// app says the file is an app core: no daemon memory to evaluate
	// expressions on.
	app bool
}

// OpenFile reads the dump at path read-only through the inspect layer,
// as mcps --dump does, or the app core at path (lwk.ReadAppCore): one
// process and no instance state.
func OpenFile(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("dump %s: not a regular file", path)
	}
	f := &File{path: path, never: make(chan struct{})}
	snap, err := readDump(path)
	if err != nil {
		var appErr error
		if snap, appErr = readAppCore(path); appErr != nil {
			return nil, fmt.Errorf("dump %s: %w", path, err)
		}
		f.app = true
	}
	in := Instance{Index: snap.Index, Status: StatusDump, Reason: "read from " + path,
		Snap: snap, At: st.ModTime(), Totals: stat.InstanceTotals(snap)}
	if f.app {
		in.Reason = fmt.Sprintf("app core of pid %d, read from %s: one process, no instance state", snap.Procs[0].PID, path)
	}
	in.Timeline = []Tick{TickOf(snap, in.At)}
	f.inst = in
	return f, nil
}

// readDump reads a dump of the daemon.
func readDump(path string) (*lwk.Snapshot, error) {
	tg, l, err := (&cli.Target{Options: inspect.Options{Dump: path}}).Open()
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	return lwk.Read(tg, l, What)
}

// readAppCore reads an ELF core that is not the daemon's: one whose
// executable has no kernel.Instance.
func readAppCore(path string) (*lwk.Snapshot, error) {
	if dumpfile.Is(path) {
		return nil, fmt.Errorf("%s is an LWK dump", path)
	}
	c, err := inspect.OpenCore(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if isKernel(c.Executable()) {
		return nil, fmt.Errorf("%s is a core of the LWK daemon", path)
	}
	return lwk.ReadAppCore(c)
}

// isKernel says the executable at path is an LWK daemon.
func isKernel(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	syms, _ := f.Symbols()
	return slices.ContainsFunc(syms, func(s elf.Symbol) bool { return s.Name == lwk.InstanceVar })
}

// Instances implements Source.
func (f *File) Instances() []Instance { return []Instance{f.inst} }

// Instance implements Source.
func (f *File) Instance(n int) (Instance, bool) { return f.inst, n == f.inst.Index }

// Updates implements Source: a file does not change.
func (f *File) Updates(context.Context) <-chan struct{} { return f.never }

// ReadOnly implements Source.
func (f *File) ReadOnly() bool { return true }

// TargetOptions implements Targets: the dump again.
func (f *File) TargetOptions(n int) (inspect.Options, bool) {
	return inspect.Options{Dump: f.path}, n == f.inst.Index && !f.app
}
