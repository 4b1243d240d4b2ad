package api

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomck/gomck/perf/noise"
	"github.com/gomck/gomck/web/source"
)

// Prefix is where Handler expects to be mounted.
const Prefix = "/api/v1/"

// Options say what the API may do besides reading.
type Options struct {
	// AllowEval serves instances/N/eval (mcdash -allow-eval): an
	// expression is evaluated on the kernel's memory as mcinspect
	// --print does. Without it the path does not exist.
	AllowEval bool
	// OutDir is where actions write cores and dumps.
	OutDir string
	// Noise runs an FWQ measurement of instance n for d (perf/noise);
	// nil: the noise action is not offered.
	Noise func(n int, d time.Duration) (*noise.Report, error)
	// Log gets the panics recovered and the failed actions; nil: the
	// standard logger.
	Log *log.Logger
}

// Handler serves the JSON API of src under Prefix.
func Handler(src source.Source, o Options) http.Handler {
	if o.Log == nil {
		o.Log = log.Default()
	}
	if o.OutDir == "" {
		o.OutDir = "."
	}
	a := &api{src: src, o: o}
	a.routes = []route{
		{"GET", "instances", a.instances},
		{"GET", "instances/{n}", a.instance},
		{"GET", "instances/{n}/processes", a.processes},
		{"GET", "instances/{n}/processes/{pid}", a.process},
		{"GET", "instances/{n}/processes/{pid}/threads", a.threads},
		{"GET", "instances/{n}/kmsg", a.kmsg},
		{"GET", "instances/{n}/counters", a.counters},
		{"GET", "events", a.events},
		{"POST", "instances/{n}/processes/{pid}/core", a.core},
		{"POST", "instances/{n}/dump", a.dump},
		{"POST", "instances/{n}/noise", a.noise},
	}
	if o.AllowEval {
		a.routes = append(a.routes, route{"GET", "instances/{n}/eval", a.eval})
	}
	return recoverer(a, o.Log)
}

type api struct {
	src    source.Source
	o      Options
	routes []route
}

// route is one path of the API: {n} and {pid} stand for numbers.
type route struct {
	method, pattern string
	serve           func(w http.ResponseWriter, r *http.Request, p params) error
}

// params are a path's numbers.
type params struct{ n, pid int }

// Error is an answer other than 200, as the client sees it.
type Error struct {
	Message string `json:"error"`
	Status  int    `json:"status"`
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Status: status}
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "%s: not under %s", r.URL.Path, Prefix))
		return
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	var allowed []string
	var matchErr *Error
	for _, rt := range a.routes {
		p, err := match(rt.pattern, segs)
		if err != nil {
			matchErr = err
			continue
		}
		if p == nil {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		if err := rt.serve(w, r, *p); err != nil {
			writeError(w, err)
		}
		return
	}
	switch {
	case len(allowed) > 0:
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, "%s %s: this path takes %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
	case matchErr != nil:
		writeError(w, matchErr)
	default:
		writeError(w, errorf(http.StatusNotFound, "%s: no such path in API v1", r.URL.Path))
	}
}

// match matches a path's segments to a pattern: nil params when it is
// another path, an error (400) when it is this path with a bad number.
func match(pattern string, segs []string) (*params, *Error) {
	pat := strings.Split(pattern, "/")
	if len(pat) != len(segs) {
		return nil, nil
	}
	var p params
	var bad *Error
	for i, s := range pat {
		switch s {
		case "{n}", "{pid}":
			v, err := strconv.Atoi(segs[i])
			if err != nil || v < 0 || s == "{pid}" && v == 0 {
				bad = errorf(http.StatusBadRequest, "%q is not an %s", segs[i], map[string]string{"{n}": "instance index (0, 1, ...)", "{pid}": "LWK process id"}[s])
			}
			if s == "{n}" {
				p.n = v
			} else {
				p.pid = v
			}
		default:
			if s != segs[i] {
				return nil, nil
			}
		}
	}
	if bad != nil {
		return nil, bad
	}
	return &p, nil
}

// writeJSON answers v with 200.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeError answers err as JSON: its own status for an *Error, else 500.
func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Message: err.Error(), Status: http.StatusInternalServerError}
	}
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	w.Write(append(b, '\n'))
}

// WriteError answers an error as the API does, for the layers around it
// (web/server's token checks).
func WriteError(w http.ResponseWriter, status int, msg string) {
	writeError(w, &Error{Message: msg, Status: status})
}

// recoverer turns a panic in h into a 500 with no stack trace for the
// client; the log gets it.
func recoverer(h http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				l.Printf("mcdash: %s %s: panic: %v", r.Method, r.URL.Path, v)
				writeError(w, errorf(http.StatusInternalServerError, "internal error"))
			}
		}()
		h.ServeHTTP(w, r)
	})
}
