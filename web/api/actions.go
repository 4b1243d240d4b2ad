package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gomck/gomck/crash/capture"
	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/web/source"
)

// MaxNoise bounds a noise run asked for over the API.
const MaxNoise = 10 * time.Second

// DefaultNoise is a noise run's length when ?d= is not given.
const DefaultNoise = 2 * time.Second

// live is instance n, refusing actions on a file (403) and on an
// instance that is not running (409).
func (a *api) live(n int) error {
	if a.src.ReadOnly() {
		return errorf(http.StatusForbidden, "read-only: the dashboard shows a file, no live instance")
	}
	in, err := a.lookup(n)
	if err != nil {
		return err
	}
	if in.Status == source.StatusDown {
		return errorf(http.StatusConflict, "instance %d is %s: %s", n, in.Status, in.Reason)
	}
	return nil
}

// CoreResult is the answer of .../processes/PID/core.
type CoreResult struct {
	File    string `json:"file"`
	Size    int64  `json:"size"`
	Threads int    `json:"threads"`
}

func (a *api) core(w http.ResponseWriter, _ *http.Request, p params) error {
	if err := a.live(p.n); err != nil {
		return err
	}
	if _, _, err := a.findProcess(p); err != nil {
		return err
	}
	path, err := filepath.Abs(filepath.Join(a.o.OutDir, fmt.Sprintf("core.%d", p.pid)))
	if err != nil {
		return err
	}
	res, err := control.Gcore(p.n, p.pid, path)
	if err != nil {
		a.o.Log.Printf("mcdash: core of pid %d on instance %d: %v", p.pid, p.n, err)
		return fmt.Errorf("core of pid %d: %w", p.pid, err)
	}
	return writeJSON(w, CoreResult{File: path, Size: res.Size, Threads: res.Threads})
}

// DumpResult is the answer of instances/N/dump.
type DumpResult struct {
	File         string  `json:"file"`
	Level        int     `json:"level"`
	Size         int64   `json:"size"`
	MemoryBytes  uint64  `json:"memory_bytes"`
	StoredBytes  uint64  `json:"stored_bytes"`
	Threads      int     `json:"threads"`
	Seconds      float64 `json:"elapsed_s"`
	RecordsError string  `json:"records_error,omitempty"`
}

func (a *api) dump(w http.ResponseWriter, _ *http.Request, p params) error {
	if err := a.live(p.n); err != nil {
		return err
	}
	path, err := filepath.Abs(filepath.Join(a.o.OutDir, capture.DefaultPath(p.n, time.Now())))
	if err != nil {
		return err
	}
	res, err := capture.Capture(capture.Options{Instance: p.n, Level: dumpfile.Level24, Path: path, Reason: "mcdash dump"})
	if err != nil {
		a.o.Log.Printf("mcdash: dump of instance %d: %v", p.n, err)
		return fmt.Errorf("dump of instance %d: %w", p.n, err)
	}
	return writeJSON(w, DumpResult{File: res.Path, Level: dumpfile.Level24, Size: res.Size, MemoryBytes: res.Memory,
		StoredBytes: res.Stored, Threads: res.Threads, Seconds: res.Elapsed.Seconds(), RecordsError: res.Records})
}

func (a *api) noise(w http.ResponseWriter, r *http.Request, p params) error {
	d := DefaultNoise
	if q := r.URL.Query().Get("d"); q != "" {
		v, err := time.ParseDuration(q)
		if err != nil || v <= 0 || v > MaxNoise {
			return errorf(http.StatusBadRequest, "d=%q: want a duration up to %v, as 2s", q, MaxNoise)
		}
		d = v
	}
	if err := a.live(p.n); err != nil {
		return err
	}
	if a.o.Noise == nil {
		return errorf(http.StatusNotImplemented, "noise runs are not offered by this server")
	}
	rep, err := a.o.Noise(p.n, d)
	if err != nil {
		return fmt.Errorf("noise run on instance %d: %w", p.n, err)
	}
	return writeJSON(w, rep)
}

// EvalResult is the answer of instances/N/eval.
type EvalResult struct {
	Expr     string `json:"expr"`
	Value    string `json:"value"` // as dlv's print shows it
	Changing bool   `json:"changing,omitempty"`
}

// evalWithin bounds an evaluation: a wild pointer chase must not hold
// the server.
const evalWithin = 10 * time.Second

func (a *api) eval(w http.ResponseWriter, r *http.Request, p params) error {
	expr := r.URL.Query().Get("expr")
	if expr == "" {
		return errorf(http.StatusBadRequest, "expr is missing: give ?expr=GO_EXPRESSION")
	}
	if _, err := a.lookup(p.n); err != nil {
		return err
	}
	ts, ok := a.src.(source.Targets)
	if !ok {
		return errorf(http.StatusNotImplemented, "this source cannot evaluate")
	}
	o, ok := ts.TargetOptions(p.n)
	if !ok {
		return errorf(http.StatusNotImplemented, "instance %d: no kernel memory to evaluate on (an app core?)", p.n)
	}
	ctx, cancel := context.WithTimeout(r.Context(), evalWithin)
	defer cancel()
	type result struct {
		out      []byte
		changing bool
		err      error
	}
	done := make(chan result, 1)
	go func() {
		out, changing, err := cli.Evaluate(o, expr, false)
		done <- result{out, changing, err}
	}()
	select {
	case <-ctx.Done():
		return errorf(http.StatusGatewayTimeout, "%s: not evaluated within %v", expr, evalWithin)
	case res := <-done:
		if res.err != nil {
			if errors.Is(res.err, inspect.ErrGone) {
				return errorf(http.StatusServiceUnavailable, "%v", res.err)
			}
			return errorf(http.StatusBadRequest, "%s: %v", expr, res.err)
		}
		return writeJSON(w, EvalResult{Expr: expr, Value: string(res.out), Changing: res.changing})
	}
}
