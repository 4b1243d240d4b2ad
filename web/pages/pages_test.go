package pages

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf/stat"
	"github.com/gomck/gomck/web/source"
)

// fixed is a Source of instances made by hand.
type fixed struct {
	ins      []source.Instance
	readOnly bool
}

func (f fixed) Instances() []source.Instance { return f.ins }
func (f fixed) Instance(n int) (source.Instance, bool) {
	for _, in := range f.ins {
		if in.Index == n {
			return in, true
		}
	}
	return source.Instance{}, false
}
func (f fixed) Updates(ctx context.Context) <-chan struct{} { return make(chan struct{}) }
func (f fixed) ReadOnly() bool                              { return f.readOnly }

type linux struct{}

func (linux) Offload(int) []source.OffloadTime {
	return []source.OffloadTime{{Nr: 1, Name: "write", Calls: 40, Seconds: 0.002}}
}
func (linux) Interference(int) []source.Interference {
	return []source.Interference{{CPU: 0, HostCPU: 3, Source: "irq", Seconds: 0.5}, {CPU: 0, HostCPU: 3, Source: "task", Seconds: 1}}
}

// running is instance 0 running process 10 (two threads, one of them on
// CPU 1) and a process whose record kept changing.
func running() source.Instance {
	write := stats.SyscallCount{Nr: 1, Name: "write", Local: stats.Syscall{}, Offloaded: stats.Syscall{Calls: 42, Ns: 4e6}}
	getpid := stats.SyscallCount{Nr: 39, Name: "getpid", Local: stats.Syscall{Calls: 1000, Ns: 1e5}}
	snap := &lwk.Snapshot{
		Live: true, MemTotal: 64 << 20, Kmsg: "booted\nmcos0: 2 CPUs\n",
		CPUs: []lwk.CPU{{Index: 0}, {Index: 1, Current: 11}},
		Procs: []lwk.Process{{PID: 10, PPID: 1, Exe: "/bin/spin", Args: []string{"spin", "-n"}, RSS: 1 << 20, VSZ: 4 << 20,
			Threads: []lwk.Thread{
				{TID: 11, PID: 10, CPU: 1, State: "R", Current: true, Syscall: -1, Syscalls: []stats.SyscallCount{write, getpid}, Pending: 1 << 9},
				{TID: 12, PID: 10, CPU: 0, State: "S", Syscall: 202, SyscallName: "futex"},
			},
			VMAs: []lwk.VMA{{Start: 0x400000, End: 0x401000, Prot: 5, Kind: "elf", Name: "/bin/spin"}}}, {Changing: true}},
		Alloc: lwk.Alloc{Pages: 16384, Free: 8192, Largest: 4096, Nodes: []lwk.Node{{Node: 0, Pages: 16384, Free: 8192}}},
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	totals := stat.InstanceTotals(snap)
	rates := totals
	rates.LocalCalls, rates.OffloadCalls = 500, 21
	return source.Instance{Index: 0, Status: source.StatusRunning, Snap: snap, At: now, Totals: totals, Rates: rates, Elapsed: time.Second,
		Timeline: []source.Tick{
			{At: now.Add(-time.Second), CPUs: []source.CPUTick{{CPU: 0}, {CPU: 1, TID: 11, PID: 10, Comm: "spin"}}},
			{At: now, CPUs: []source.CPUTick{{CPU: 0, TID: 12, PID: 10, Comm: "spin"}, {CPU: 1, TID: 11, PID: 10, Comm: "spin"}}},
		}}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPages(t *testing.T) {
	booted := Handler(fixed{ins: []source.Instance{running(), {Index: 1, Status: source.StatusDown, Reason: "not booted"}}}, Options{})
	none := Handler(fixed{}, Options{})
	withLinux := Handler(fixed{ins: []source.Instance{running()}}, Options{Linux: linux{}})
	for _, tc := range []struct {
		name   string
		h      http.Handler
		path   string
		status int
		want   []string
		not    []string
	}{
		{"overview", booted, "/", 200, []string{"mcos0", "RUNNING", `href="/instances/0/processes/10"`, "/bin/spin", "mcos1", "DOWN", "not booted",
			"mcos0: 2 CPUs", "32M"}, []string{"no LWK instance"}},
		{"no instance", none, "/", 200, []string{"no LWK instance is booted", "/assets/dash.js"}, nil},
		{"instance", booted, "/instances/0", 200, []string{`id="timeline"`, `id="rates"`, `id="offload"`, `id="memory"`,
			`src="/assets/echarts.min.js"`, "write", "500/s", "21/s", "spin 10/11", "idle", "FAILS", "/api/v1/instances/0/noise"},
			[]string{"LINUX TIME", "interference"}},
		{"instance down", booted, "/instances/1", 200, []string{"DOWN", "not booted", `id="timeline"`}, nil},
		{"linux", withLinux, "/instances/0", 200, []string{"LINUX TIME", "2ms", "CPU interference", "1.5s", "500ms"}, nil},
		{"process", booted, "/instances/0/processes/10", 200, []string{">1", "futex", "/bin/spin", "START-END", "r-xp", "getpid", "1000",
			"SIGUSR1", "0x0000000000000200", "/api/v1/instances/0/processes/10/core", "/api/v1/instances/0/dump", "spin -n"}, nil},
		{"rate", booted, "/instances/0?rate=10", 200, []string{`data-rate="10"`, `data-token="false"`}, nil},
		{"token", Handler(fixed{}, Options{Token: true}), "/", 200, []string{`data-token="true"`}, nil},
		{"bad rate", booted, "/?rate=11", 400, []string{"rate=&#34;11&#34;"}, nil},
		{"rate not a number", booted, "/instances/0?rate=x", 400, []string{"1 to 10"}, nil},
		{"unknown instance", booted, "/instances/7", 404, []string{"instance 7 is not watched"}, nil},
		{"instance not a number", booted, "/instances/zero", 404, []string{"not a number"}, nil},
		{"negative instance", booted, "/instances/-1", 404, []string{"not a number"}, nil},
		{"unknown pid", booted, "/instances/0/processes/99", 404, []string{"no LWK process 99"}, nil},
		{"pid of a down instance", booted, "/instances/1/processes/10", 404, []string{"DOWN"}, nil},
		{"pid not a number", booted, "/instances/0/processes/1e3", 404, []string{"not a number"}, nil},
		{"unknown page", booted, "/instances/0/nope", 404, []string{"no page /instances/0/nope"}, nil},
		{"unknown asset", booted, "/assets/nope.js", 404, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, tc.h, tc.path)
			if res.StatusCode != tc.status {
				t.Errorf("GET %s: status %d, want %d\n%s", tc.path, res.StatusCode, tc.status, body)
			}
			if ct := res.Header.Get("Content-Type"); tc.status != 404 || tc.want != nil {
				if !strings.HasPrefix(ct, "text/html") {
					t.Errorf("GET %s: Content-Type %q", tc.path, ct)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: no %q in\n%s", tc.path, w, body)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("GET %s: %q shown", tc.path, w)
				}
			}
		})
	}
}

// TestReadOnly: a read-only source or Options.ReadOnly show no button.
func TestReadOnly(t *testing.T) {
	for _, h := range []http.Handler{
		Handler(fixed{ins: []source.Instance{running()}, readOnly: true}, Options{}),
		Handler(fixed{ins: []source.Instance{running()}}, Options{ReadOnly: true}),
	} {
		for _, path := range []string{"/instances/0", "/instances/0/processes/10"} {
			if _, body := get(t, h, path); strings.Contains(body, "<button") || strings.Contains(body, "data-post") {
				t.Errorf("GET %s read-only shows a button", path)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	h := Handler(fixed{}, Options{})
	for path, want := range map[string]string{
		"/assets/echarts.min.js": "text/javascript",
		"/assets/dash.js":        "text/javascript",
		"/assets/dash.css":       "text/css",
		"/assets/LICENSE":        "text/plain",
	} {
		res, body := get(t, h, path)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), want) || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes; want %s", path, res.StatusCode, res.Header.Get("Content-Type"), len(body), want)
		}
	}
}

// TestNoExternalURL: the pages load nothing from another host.
func TestNoExternalURL(t *testing.T) {
	h := Handler(fixed{ins: []source.Instance{running()}}, Options{Linux: linux{}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	urls := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.\-\[\]:]+`)
	for _, path := range []string{"/", "/instances/0", "/instances/0/processes/10", "/nope"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, m := range urls.FindAllString(string(b), -1) {
			u, err := url.Parse(m)
			if err != nil || u.Host != host {
				t.Errorf("GET %s links to %s", path, m)
			}
		}
	}
}

// changing is a Source whose instances the test replaces, waking the
// streams.
type changing struct {
	mu      sync.Mutex
	ins     []source.Instance
	updates chan struct{}
}

func (c *changing) set(ins ...source.Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ins = ins
	close(c.updates)
	c.updates = make(chan struct{})
}

func (c *changing) Instances() []source.Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ins
}

func (c *changing) Instance(n int) (source.Instance, bool) {
	return fixed{ins: c.Instances()}.Instance(n)
}

func (c *changing) Updates(context.Context) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.updates
}

func (c *changing) ReadOnly() bool { return false }

// TestStream: a page's stream sends its live sections and charts, then
// only what changed after a poll, and says when the page is gone.
func TestStream(t *testing.T) {
	src := &changing{ins: []source.Instance{running()}, updates: make(chan struct{})}
	srv := httptest.NewServer(Handler(src, Options{}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/instances/0?live=stream&rate=10")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := bufio.NewScanner(res.Body)
	events.Buffer(nil, 1<<20)
	next := func() update {
		t.Helper()
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var u update
				if err := json.Unmarshal([]byte(data), &u); err != nil {
					t.Fatalf("event %q: %v", data, err)
				}
				return u
			}
		}
		t.Fatalf("the stream ended: %v", events.Err())
		return update{}
	}
	first := next()
	for _, id := range []string{"summary", "offloaded", "allocator"} {
		if first.Sections[id] == "" {
			t.Errorf("first event: no section %s in %v", id, first.Sections)
		}
	}
	if !strings.Contains(first.Sections["summary"], "500/s") || len(first.Charts) != 4 {
		t.Errorf("first event: summary %q, %d charts", first.Sections["summary"], len(first.Charts))
	}
	in := running()
	in.Snap.Alloc.Fails = 3
	src.set(in)
	second := next()
	if _, ok := second.Sections["allocator"]; !ok || len(second.Sections) != 1 || len(second.Charts) != 0 {
		t.Errorf("after a poll that changed the allocator's fails: sections %v, %d charts", second.Sections, len(second.Charts))
	}
	src.set()
	if gone := next(); !strings.Contains(gone.Gone, "instance 0 is not watched") {
		t.Errorf("after the instance went: %+v", gone)
	}
	for path, status := range map[string]int{"/?live=yes": 400, "/instances/5?live=stream": 404, "/?live=stream&rate=0": 400} {
		if res, _ := get(t, Handler(fixed{}, Options{}), path); res.StatusCode != status {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, status)
		}
	}
}

// TestStreamBoot: the overview with no instance says so, and its stream
// shows the instance once one boots.
func TestStreamBoot(t *testing.T) {
	src := &changing{updates: make(chan struct{})}
	srv := httptest.NewServer(Handler(src, Options{}))
	defer srv.Close()
	if _, body := get(t, Handler(src, Options{}), "/"); !strings.Contains(body, "no LWK instance is booted") {
		t.Fatalf("overview without an instance:\n%s", body)
	}
	res, err := http.Get(srv.URL + "/?live=stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := bufio.NewScanner(res.Body)
	events.Buffer(nil, 1<<20)
	var seen []string
	for events.Scan() {
		data, ok := strings.CutPrefix(events.Text(), "data: ")
		if !ok {
			continue
		}
		var u update
		if err := json.Unmarshal([]byte(data), &u); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, u.Sections["instances"])
		if len(seen) == 1 {
			src.set(running())
			continue
		}
		break
	}
	if len(seen) != 2 || !strings.Contains(seen[0], "no LWK instance is booted") || !strings.Contains(seen[1], "/bin/spin") {
		t.Errorf("the overview's stream sent %q", seen)
	}
}
