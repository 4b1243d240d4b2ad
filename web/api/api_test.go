package api

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/web/source"
)

// fixed is a Source of one poll made by hand: the HTTP layer's tests
// need no LWK (the lwktest suite runs mcdash on a real one).
type fixed struct {
	ins      []source.Instance
	readOnly bool
	panics   bool
}

func (f fixed) Instances() []source.Instance {
	if f.panics {
		panic("a bug")
	}
	return f.ins
}

func (f fixed) Instance(n int) (source.Instance, bool) {
	for _, in := range f.Instances() {
		if in.Index == n {
			return in, true
		}
	}
	return source.Instance{}, false
}

func (f fixed) Updates(context.Context) <-chan struct{} { return make(chan struct{}) }
func (f fixed) ReadOnly() bool                          { return f.readOnly }

func snapshot() *lwk.Snapshot {
	return &lwk.Snapshot{Index: 0, MemTotal: 1 << 20, Kmsg: "one\ntwo\n", KmsgHead: 8,
		CPUs:  []lwk.CPU{{Index: 0, Host: 1, Current: 7, Switches: 3}},
		Alloc: lwk.Alloc{Pages: 256, Free: 64},
		Procs: []lwk.Process{{PID: 7, Exe: "/bin/app", Threads: []lwk.Thread{{TID: 7, PID: 7, Pending: 1<<9 | 1}}}}}
}

func serve(t *testing.T, src source.Source, o Options, method, path string) (int, string) {
	t.Helper()
	o.Log = log.New(io.Discard, "", 0)
	rec := httptest.NewRecorder()
	Handler(src, o).ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestErrors(t *testing.T) {
	live := fixed{ins: []source.Instance{{Index: 0, Status: source.StatusRunning, Snap: snapshot(), At: time.Now()},
		{Index: 1, Status: source.StatusDown, Reason: source.NotBooted}}}
	for _, c := range []struct {
		src          source.Source
		method, path string
		status       int
		says         string
	}{
		{live, "GET", "/api/v1/instances/2", 404, "not watched"},
		{live, "GET", "/api/v1/instances/1/processes", 503, source.NotBooted},
		{live, "GET", "/api/v1/instances/0/processes/8", 404, "8"},
		{live, "GET", "/api/v1/instances/0/processes/0", 400, "process id"},
		{live, "GET", "/api/v1/instances/x/kmsg", 400, "instance index"},
		{live, "GET", "/api/v1/instances/0/kmsg?since=-1", 400, "since"},
		{live, "GET", "/api/v1/instances/0/eval?expr=1", 404, "no such path"},
		{live, "GET", "/api/v1/events?rate=x", 400, "rate"},
		{live, "PUT", "/api/v1/instances/0", 405, "GET"},
		{live, "POST", "/api/v1/instances/1/dump", 409, "DOWN"},
		{live, "POST", "/api/v1/instances/0/noise?d=20s", 400, "10s"},
		{live, "POST", "/api/v1/instances/0/noise", 501, "not offered"},
		{fixed{ins: live.ins, readOnly: true}, "POST", "/api/v1/instances/0/dump", 403, "read-only"},
		{fixed{panics: true}, "GET", "/api/v1/instances", 500, "internal error"},
		{live, "GET", "/elsewhere", 404, "not under"},
	} {
		status, body := serve(t, c.src, Options{}, c.method, c.path)
		var e Error
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != c.status || e.Status != c.status || !strings.Contains(e.Message, c.says) {
			t.Errorf("%s %s = %d %s, want %d saying %q", c.method, c.path, status, body, c.status, c.says)
		}
		if strings.Contains(body, "goroutine") {
			t.Errorf("%s %s: a stack trace reached the client: %s", c.method, c.path, body)
		}
	}
}

func TestProcess(t *testing.T) {
	src := fixed{ins: []source.Instance{{Index: 0, Status: source.StatusRunning, Snap: snapshot()}}}
	status, body := serve(t, src, Options{}, "GET", "/api/v1/instances/0/processes/7")
	var p Process
	if err := json.Unmarshal([]byte(body), &p); err != nil || status != 200 {
		t.Fatalf("process 7: %d %s", status, body)
	}
	if len(p.Threads) != 1 || p.Threads[0]["tid"] != float64(7) || p.Exe != "/bin/app" {
		t.Errorf("process 7: %+v", p)
	}
	if got := p.Signals[0].Pending; len(got) != 2 || got[0] != "SIGHUP" || got[1] != "SIGUSR1" {
		t.Errorf("pending signals %q, want SIGHUP and SIGUSR1", got)
	}
	_, body = serve(t, src, Options{}, "GET", "/api/v1/instances")
	var all struct{ Instances []Summary }
	json.Unmarshal([]byte(body), &all)
	if s := all.Instances[0]; s.MemTotal != 1<<20 || s.MemFree != 1<<18 || s.Processes != 1 || s.CPUs[0].TID != 7 {
		t.Errorf("summary %+v", s)
	}
}

func TestKmsgSince(t *testing.T) {
	const text = "line 3\nline 4\n" // a wrapped ring: head 100
	for _, c := range []struct {
		since uint64
		want  Kmsg
	}{
		{0, Kmsg{Text: text, Next: 100}},
		{93, Kmsg{Text: "line 4\n", Next: 100}},
		{100, Kmsg{Text: "", Next: 100}},
		{50, Kmsg{Text: text, Next: 100, Lost: true}},
		{200, Kmsg{Text: text, Next: 100, Lost: true}},
	} {
		if got := kmsgSince(text, 100, c.since); got != c.want {
			t.Errorf("since %d: %+v, want %+v", c.since, got, c.want)
		}
	}
}
