package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/eval"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/inspect/report"
)

// Target holds the flags that say what to inspect.
type Target struct {
	Options inspect.Options
	JSON    bool
}

// Register adds -i, --dump, --kernel and --json to fs.
func (t *Target) Register(fs *pflag.FlagSet) {
	fs.IntVarP(&t.Options.Instance, "instance", "i", 0, "OS instance `N` (mcos<N>) whose daemon to read")
	fs.StringVar(&t.Options.Dump, "dump", "", "read a core `FILE` of the daemon (gcore) instead of the live daemon")
	fs.StringVar(&t.Options.Kernel, "kernel", "", "daemon binary `PATH` with DWARF (default: the running daemon's, /proc/<pid>/exe, or the dump's)")
	fs.BoolVar(&t.JSON, "json", false, "print JSON")
}

// Open opens the target and loads its layout (cached per build id).
func (t *Target) Open() (*inspect.Target, *layout.Layout, error) {
	tg, err := inspect.Open(t.Options)
	if err != nil {
		return nil, nil, err
	}
	if tg.Unverified != "" {
		fmt.Fprintf(os.Stderr, "warning: build id of %s not verified against %s: %s\n", tg.Kernel, tg.Source, tg.Unverified)
	}
	l, err := layout.Cached(layout.CacheDir(), tg.Kernel, string(tg.BuildID), lwk.Roots)
	if err != nil {
		tg.Close()
		return nil, nil, err
	}
	return tg, l, nil
}

// Snapshot opens the target and reads what is asked; records that could
// not be read are reported on stderr.
func (t *Target) Snapshot(what lwk.What) (*lwk.Snapshot, error) {
	tg, l, err := t.Open()
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	return read(tg, l, what)
}

func read(tg *inspect.Target, l *layout.Layout, what lwk.What) (*lwk.Snapshot, error) {
	s, err := lwk.Read(tg, l, what)
	if err != nil {
		return nil, err
	}
	for _, e := range s.Errors {
		fmt.Fprintf(os.Stderr, "warning: %s\n", e)
	}
	return s, nil
}

// PrintJSON writes v indented.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Run parses args into fs and runs f; errors go to stderr as "name: err"
// with exit status 1, usage errors with 2.
func Run(fs *pflag.FlagSet, args []string, f func() error) {
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		// ContinueOnError leaves the message to the caller.
		fmt.Fprintf(os.Stderr, "%s: %v\n", fs.Name(), err)
		fs.Usage()
		os.Exit(2)
	}
	if err := f(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fs.Name(), err)
		os.Exit(1)
	}
}

// PS prints the ps table of the target: mcps, and mcinspect --ps.
func PS(t *Target, pid int, columns string) error {
	return Watch(t, pid, columns, 0, 1)
}

// Watch prints the ps table count times (0: until the target is gone or
// the command is interrupted), delay apart, as top -b -d -n does: one
// process reads the daemon again and again, which is how to watch it
// live without starting a process per look.
func Watch(t *Target, pid int, columns string, delay time.Duration, count int) error {
	cols, err := report.ParseColumns(columns)
	if err != nil {
		return err
	}
	tg, l, err := t.Open()
	if err != nil {
		return err
	}
	defer tg.Close()
	for i := 0; count == 0 || i < count; i++ {
		if i > 0 {
			time.Sleep(delay)
			fmt.Println()
		}
		if err := psOnce(t, tg, l, pid, cols); err != nil {
			return err
		}
	}
	return nil
}

func psOnce(t *Target, tg *inspect.Target, l *layout.Layout, pid int, cols []*report.Column) error {
	s, err := read(tg, l, lwk.What{})
	if err != nil {
		return err
	}
	if pid > 0 {
		if _, err := s.Process(pid); err != nil {
			return err
		}
	}
	rows := report.Rows(s, pid)
	if t.JSON {
		return PrintJSON(os.Stdout, report.JSON(rows, cols))
	}
	return report.Write(os.Stdout, rows, cols)
}

// Print evaluates a Go expression on the target's kernel state with
// Delve's evaluator (package eval) and prints it as dlv's print does, or
// as JSON.
func Print(t *Target, expr string) error {
	out, changing, err := Evaluate(t.Options, expr, t.JSON)
	if err != nil {
		return err
	}
	if changing {
		// The value is shown all the same, said to be a moving one.
		fmt.Fprintln(os.Stderr, "mcinspect: (changing) the value differed each time it was read")
	}
	_, err = os.Stdout.Write(out)
	return err
}

// Evaluate opens the target o and evaluates expr on it (StableEval):
// mcinspect --print, and the dashboard's eval.
func Evaluate(o inspect.Options, expr string, asJSON bool) (out []byte, changing bool, err error) {
	tg, err := inspect.Open(o)
	if err != nil {
		return nil, false, err
	}
	defer tg.Close()
	ev, err := eval.New(tg.Kernel, tg.Mem)
	if err != nil {
		return nil, false, err
	}
	defer ev.Close()
	// kmsg lines and paths are longer than dlv's 64-byte default.
	ev.Limits.MaxStringLen = 4096
	return StableEval(ev, expr, asJSON, o.Dump == "")
}

// printTries bounds the evaluations of a --print that keeps changing.
const printTries = 5

// StableEval evaluates expr and formats the result (as JSON or as dlv
// prints it). Delve reads a value piece by piece, so on a live daemon
// (live) it evaluates again until two results in a row agree, as the
// sequence counters do for records; changing says none did.
func StableEval(ev *eval.Evaluator, expr string, asJSON, live bool) (out []byte, changing bool, err error) {
	format := func() ([]byte, error) {
		r, err := ev.Eval(expr)
		if err != nil {
			return nil, err
		}
		if asJSON {
			var b bytes.Buffer
			err := PrintJSON(&b, r)
			return b.Bytes(), err
		}
		return []byte(r.Format(true) + "\n"), nil
	}
	if out, err = format(); err != nil || !live {
		return out, false, err
	}
	for try := 1; try < printTries; try++ {
		again, err := format()
		if err != nil {
			return nil, false, err
		}
		if bytes.Equal(again, out) {
			return out, false, nil
		}
		out = again
	}
	return out, true, nil
}
