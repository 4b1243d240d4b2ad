package source

import (
	"context"
	"fmt"
	"os"
	"time"

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

// File is a dump (an LWK kernel dump or a core of the daemon), read
// once: one instance, with Status StatusDump, and no updates.
type File struct {
	path  string
	inst  Instance
	never chan struct{}
}

// OpenFile reads the dump at path read-only through the inspect layer,
// as mcps --dump does.
func OpenFile(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("dump %s: not a regular file", path)
	}
	tg, l, err := (&cli.Target{Options: inspect.Options{Dump: path}}).Open()
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", path, err)
	}
	defer tg.Close()
	snap, err := lwk.Read(tg, l, What)
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", path, err)
	}
	in := Instance{Index: snap.Index, Status: StatusDump, Reason: "read from " + path,
		Snap: snap, At: st.ModTime(), Totals: stat.InstanceTotals(snap)}
	in.Timeline = []Tick{TickOf(snap, in.At)}
	return &File{path: path, inst: in, never: make(chan struct{})}, nil
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
	return inspect.Options{Dump: f.path}, n == f.inst.Index
}
