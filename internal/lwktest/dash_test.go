package lwktest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// dash is one mcdash started by a test.
type dash struct {
	t    *testing.T
	base string // http://127.0.0.1:PORT
}

// startDash runs bin/mcdash with args in the run directory runDir and
// waits for its address; the cleanup stops it by its pid.
func startDash(t *testing.T, runDir string, args ...string) *dash {
	t.Helper()
	cmd := exec.Command(filepath.Join(Bin(t), "mcdash"), append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "GOMCK_RUNDIR="+runDir)
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		addr, found := strings.CutPrefix(line, "mcdash: listening on ")
		if !ok || !found {
			t.Fatalf("mcdash %v said %q, want its address first\n%s", args, line, stderr.String())
		}
		go func() {
			for range lines {
			}
		}()
		return &dash{t: t, base: strings.TrimSuffix(addr, "/")}
	case <-time.After(60 * time.Second):
		t.Fatalf("mcdash %v: no address within 60 s\n%s", args, stderr.String())
	}
	return nil
}

// do sends method path with the's headers h and decodes the JSON
// answer into v; it returns the status.
func (d *dash) do(method, path string, h http.Header, v any) int {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		d.t.Fatalf("%s %s: %d with Content-Type %q, want JSON: %s", method, path, resp.StatusCode, ct, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			d.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// in is d for the (sub)test t: its failures are t's.
func (d *dash) in(t *testing.T) *dash { return &dash{t: t, base: d.base} }

func (d *dash) get(path string, v any) int { d.t.Helper(); return d.do("GET", path, nil, v) }

// apiError is the API's error answer.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// wantError checks that path answers status with a JSON error.
func (d *dash) wantError(method, path string, status int) {
	d.t.Helper()
	var e apiError
	if got := d.do(method, path, nil, &e); got != status || e.Status != status || e.Error == "" {
		d.t.Errorf("%s %s: %d %+v, want %d with a JSON error", method, path, got, e, status)
	}
}

type dashInstances struct {
	Instances []struct {
		Instance  int    `json:"instance"`
		Status    string `json:"status"`
		Reason    string `json:"reason"`
		DaemonPID int    `json:"daemon_pid"`
		Processes int    `json:"processes"`
	} `json:"instances"`
	Message string `json:"message"`
}

// TestMcdashNoLWK starts mcdash with no instance booted: it says so and
// waits, and a non-loopback address without a token is refused.
func TestMcdashNoLWK(t *testing.T) {
	runDir := t.TempDir()
	var all dashInstances
	startDash(t, runDir).get("/api/v1/instances", &all)
	if len(all.Instances) != 0 || !strings.Contains(all.Message, "no LWK instance is booted") {
		t.Errorf("no instance booted: /api/v1/instances = %+v, want none and a message saying so", all)
	}
	var one dashInstances
	startDash(t, runDir, "-i", "2").get("/api/v1/instances", &one)
	if len(one.Instances) != 1 || one.Instances[0].Status != "DOWN" || !strings.Contains(one.Instances[0].Reason, "no LWK instance is booted") {
		t.Errorf("-i 2, not booted: /api/v1/instances = %+v, want instance 2 DOWN, saying no LWK is booted", one)
	}
	for _, args := range [][]string{{"-listen", "0.0.0.0:0"}, {"-listen", "[::]:0"}, {"-refresh", "1ms"}, {"-i", "x"}} {
		cmd := exec.Command(filepath.Join(Bin(t), "mcdash"), args...)
		cmd.Env = append(os.Environ(), "GOMCK_RUNDIR="+runDir)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), "mcdash: ") || strings.Contains(string(out), "listening") {
			t.Errorf("mcdash %v: %v %q, want it to refuse with a message", args, err, out)
		}
	}
}

// TestMcdash boots an instance running a program that calls the LWK all
// the time, and checks mcdash's API against mcps, its event stream, its
// errors, its token rules, its actions and a dump of the instance.
func TestMcdash(t *testing.T) {
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	app := in.Mcexec(testprog.MustC(t, "ticker"), "1000000", "5")
	app.Stdout = io.Discard
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })
	var rows []psRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rows = slices.DeleteFunc(mcps(t, in), func(r psRow) bool { return !strings.Contains(r.Exe, "ticker") })
		if len(rows) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ticker did not show in mcps within 30 s")
		}
	}
	pid := rows[0].PID
	d := startDash(t, in.RunDir, "-refresh", "200ms", "-allow-eval")
	started := time.Now()

	t.Run("as mcps", func(t *testing.T) {
		d := d.in(t)
		var all dashInstances
		d.get("/api/v1/instances", &all)
		if len(all.Instances) != 1 || all.Instances[0].Status != "RUNNING" || all.Instances[0].DaemonPID != in.PID {
			t.Fatalf("/api/v1/instances = %+v, want instance 0 RUNNING, daemon %d", all, in.PID)
		}
		var procs struct {
			Processes []struct {
				PID  int    `json:"pid"`
				Exe  string `json:"exe"`
				Args []string
			} `json:"processes"`
		}
		d.get("/api/v1/instances/0/processes", &procs)
		var pids, wantPIDs []string
		for _, p := range procs.Processes {
			pids = append(pids, fmt.Sprint(p.PID, " ", p.Exe))
		}
		for _, r := range mcps(t, in) {
			if r.TID == r.PID && r.PID != 0 {
				wantPIDs = append(wantPIDs, fmt.Sprint(r.PID, " ", r.Exe))
			}
		}
		slices.Sort(pids)
		slices.Sort(wantPIDs)
		if !slices.Equal(pids, wantPIDs) {
			t.Errorf("processes %q, mcps %q", pids, wantPIDs)
		}
		var threads struct {
			Threads []psRow `json:"threads"`
		}
		d.get(fmt.Sprintf("/api/v1/instances/0/processes/%d/threads", pid), &threads)
		tids := func(rows []psRow) (out []string) {
			for _, r := range rows {
				out = append(out, fmt.Sprint(r.TID, " ", r.PID, " ", r.Exe))
			}
			slices.Sort(out)
			return out
		}
		if got, want := tids(threads.Threads), tids(mcps(t, in, "-p", strconv.Itoa(pid))); !slices.Equal(got, want) {
			t.Errorf("threads %q, mcps -p %d %q", got, pid, want)
		}
		var proc struct {
			PID  int `json:"pid"`
			VMAs []struct {
				Perms string `json:"perms"`
				Name  string `json:"name"`
			} `json:"vmas"`
			Syscalls []struct {
				Name         string `json:"name"`
				OffloadCalls uint64 `json:"offloaded_calls"`
			} `json:"syscalls"`
		}
		d.get(fmt.Sprintf("/api/v1/instances/0/processes/%d", pid), &proc)
		write := slices.IndexFunc(proc.Syscalls, func(s struct {
			Name         string `json:"name"`
			OffloadCalls uint64 `json:"offloaded_calls"`
		}) bool {
			return s.Name == "write" && s.OffloadCalls > 0
		})
		if proc.PID != pid || len(proc.VMAs) == 0 || write < 0 {
			t.Errorf("process %d: %+v, want its VMAs and offloaded writes in its profile", pid, proc)
		}
	})

	t.Run("live", func(t *testing.T) {
		d := d.in(t)
		type counters struct {
			Events []struct {
				Name  string  `json:"name"`
				Total float64 `json:"total"`
				Rate  float64 `json:"per_s"`
			} `json:"events"`
			CPUs []struct {
				Rates map[string]float64 `json:"per_s"`
			} `json:"cpus"`
		}
		offloaded := func() (total, rate float64) {
			var c counters
			d.get("/api/v1/instances/0/counters", &c)
			if len(c.CPUs) != 1 || c.CPUs[0].Rates["syscalls_offloaded"] <= 0 && time.Since(started) > time.Second {
				t.Errorf("per-CPU counters %+v: want the one LWK CPU offloading calls", c.CPUs)
			}
			for _, e := range c.Events {
				if e.Name == "syscalls_offloaded" {
					return e.Total, e.Rate
				}
			}
			t.Fatalf("counters %+v have no syscalls_offloaded", c)
			return 0, 0
		}
		before, _ := offloaded()
		time.Sleep(time.Second)
		after, rate := offloaded()
		if after <= before || rate <= 0 {
			t.Errorf("syscalls_offloaded went from %v to %v (rate %v/s) while the ticker writes", before, after, rate)
		}
		events := sse(t, d.base+"/api/v1/events?rate=5", 3)
		if len(events) < 3 || events[0].At.Equal(events[2].At) {
			t.Errorf("events %+v: want 3, of different polls", events)
		}
		var k1, k2 struct {
			Text string `json:"text"`
			Next uint64 `json:"next"`
		}
		d.get("/api/v1/instances/0/kmsg", &k1)
		d.get(fmt.Sprintf("/api/v1/instances/0/kmsg?since=%d", k1.Next), &k2)
		if !strings.Contains(k1.Text, "booted") || k2.Next < k1.Next || len(k2.Text) >= len(k1.Text) {
			t.Errorf("kmsg: %d bytes to cursor %d, then %q to %d: want the boot message, then only what is new", len(k1.Text), k1.Next, k2.Text, k2.Next)
		}
		var ev struct {
			Value string `json:"value"`
		}
		if d.get("/api/v1/instances/0/eval?expr="+url.QueryEscape("kernel.Instance.Index"), &ev); strings.TrimSpace(ev.Value) != "0" {
			t.Errorf("eval kernel.Instance.Index = %q, want 0", ev.Value)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		d := d.in(t)
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/api/v1/instances/7", 404},
			{"GET", "/api/v1/instances/0/processes/99999", 404},
			{"GET", "/api/v1/instances/0/processes/99999/threads", 404},
			{"GET", "/api/v1/instances/0/nothing", 404},
			{"GET", "/api/v1/nothing", 404},
			{"GET", "/api/v1/instances/zero", 400},
			{"GET", "/api/v1/instances/-1/processes", 400},
			{"GET", "/api/v1/instances/0/processes/0x10", 400},
			{"GET", "/api/v1/instances/0/kmsg?since=soon", 400},
			{"GET", "/api/v1/events?rate=0", 400},
			{"GET", "/api/v1/events?rate=11", 400},
			{"POST", "/api/v1/instances/0/noise?d=1h", 400},
			{"GET", "/api/v1/instances/0/eval", 400},
			{"GET", "/api/v1/instances/0/eval?expr=" + url.QueryEscape("*(*int)(nil)"), 400},
			{"DELETE", "/api/v1/instances/0", 405},
			{"GET", "/api/v1/instances/0/dump", 405},
		} {
			d.wantError(c.method, c.path, c.status)
		}
	})

	t.Run("token", func(t *testing.T) {
		d := d.in(t)
		const token = "s3cret-t0ken"
		td := startDash(t, in.RunDir, "-token", token)
		td.wantError("GET", "/api/v1/instances", 401)
		td.wantError("GET", "/api/v1/instances?token=wrong", 401)
		if got := td.do("GET", "/api/v1/instances", http.Header{"Authorization": {"Bearer " + token}}, nil); got != 200 {
			t.Errorf("with the token as Bearer: %d, want 200", got)
		}
		resp, err := http.Get(td.base + "/api/v1/instances?token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Cookies()
		if resp.StatusCode != 200 || len(cookies) != 1 || !cookies[0].HttpOnly {
			t.Fatalf("?token=: %d, cookies %v, want 200 and an HttpOnly cookie", resp.StatusCode, cookies)
		}
		if got := td.do("GET", "/api/v1/instances", http.Header{"Cookie": {cookies[0].String()}}, nil); got != 200 {
			t.Errorf("with the cookie: %d, want 200", got)
		}
		// Actions from a page of another origin are refused.
		var e apiError
		if got := d.do("POST", fmt.Sprintf("/api/v1/instances/0/processes/%d/core", pid), http.Header{"Origin": {"http://elsewhere.example"}}, &e); got != 403 {
			t.Errorf("a core asked by a page of another origin: %d %+v, want 403", got, e)
		}
	})

	var dump, core string
	t.Run("actions", func(t *testing.T) {
		d := d.in(t)
		var cr struct {
			File    string `json:"file"`
			Threads int    `json:"threads"`
		}
		if got := d.do("POST", fmt.Sprintf("/api/v1/instances/0/processes/%d/core", pid), nil, &cr); got != 200 || cr.Threads != 1 {
			t.Fatalf("core: %d %+v, want 200 and the ticker's one thread", got, cr)
		}
		if out, err := exec.Command("file", cr.File).Output(); err != nil || !strings.Contains(string(out), "core file") {
			t.Errorf("file %s: %v %q, want an ELF core", cr.File, err, out)
		}
		core = cr.File
		var dr struct {
			File string `json:"file"`
		}
		if got := d.do("POST", "/api/v1/instances/0/dump", nil, &dr); got != 200 || dr.File == "" {
			t.Fatalf("dump: %d %+v, want 200 and the file", got, dr)
		}
		dump = dr.File
		var noise struct {
			CPUs []json.RawMessage `json:"cpus"`
		}
		if got := d.do("POST", "/api/v1/instances/0/noise?d=1s", nil, &noise); got != 200 || len(noise.CPUs) == 0 {
			t.Errorf("noise: %d %+v, want 200 and the CPUs measured", got, noise)
		}
	})

	t.Run("dump", func(t *testing.T) {
		if dump == "" {
			t.Skip("no dump was taken")
		}
		dd := startDash(t, in.RunDir, "--dump", dump)
		var all dashInstances
		dd.get("/api/v1/instances", &all)
		if len(all.Instances) != 1 || all.Instances[0].Status != "DUMP" || all.Instances[0].Processes == 0 {
			t.Errorf("--dump: %+v, want one DUMP instance with the ticker", all)
		}
		dd.wantError("POST", "/api/v1/instances/0/dump", 403)
		dd.wantError("GET", fmt.Sprintf("/api/v1/instances/0/processes/%d/threads", pid+1000), 404)
		b, err := os.ReadFile(dump)
		if err != nil {
			t.Fatal(err)
		}
		truncated := filepath.Join(t.TempDir(), "truncated")
		os.WriteFile(truncated, b[:len(b)/3], 0o600)
		cmd := exec.Command(filepath.Join(Bin(t), "mcdash"), "-listen", "127.0.0.1:0", "--dump", truncated)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "mcdash: dump "+truncated) || strings.Contains(string(out), "panic") {
			t.Errorf("mcdash --dump of a truncated dump: %v %q, want a clear error", err, out)
		}
	})

	t.Run("app core", func(t *testing.T) {
		if core == "" {
			t.Skip("no core was taken")
		}
		cd := startDash(t, in.RunDir, "--dump", core)
		var threads struct {
			Threads []psRow `json:"threads"`
		}
		cd.get(fmt.Sprintf("/api/v1/instances/0/processes/%d/threads", pid), &threads)
		if len(threads.Threads) != 1 || threads.Threads[0].TID != pid || !strings.Contains(threads.Threads[0].Exe, "ticker") {
			t.Errorf("--dump of the app core: threads %+v, want the ticker's one thread %d", threads.Threads, pid)
		}
		var proc struct {
			VMAs []struct {
				Name string `json:"name"`
			} `json:"vmas"`
		}
		cd.get(fmt.Sprintf("/api/v1/instances/0/processes/%d", pid), &proc)
		if !slices.ContainsFunc(proc.VMAs, func(v struct {
			Name string `json:"name"`
		}) bool {
			return strings.Contains(v.Name, "ticker")
		}) {
			t.Errorf("--dump of the app core: VMAs %+v, want the ticker's executable mapped", proc.VMAs)
		}
		cd.wantError("GET", "/api/v1/instances/0/eval?expr=1", 404)
	})

	t.Run("hung", func(t *testing.T) {
		status := func() string {
			var all dashInstances
			d.in(t).get("/api/v1/instances", &all)
			if len(all.Instances) != 1 {
				t.Fatalf("instances %+v, want instance 0", all)
			}
			return all.Instances[0].Status
		}
		waitStatus := func(want string) {
			t.Helper()
			for deadline := time.Now().Add(20 * time.Second); status() != want; time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("mcdash did not say %s within 20 s (it says %s)", want, status())
				}
			}
		}
		in.Hangs = true
		syscall.Kill(in.PID, syscall.SIGSTOP)
		waitStatus("HUNGUP")
		syscall.Kill(in.PID, syscall.SIGCONT)
		waitStatus("RUNNING")
	})

	t.Run("reboot", func(t *testing.T) {
		before, rebooted := in.PID, time.Now()
		in.reboot("-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var detail struct {
				Status    string `json:"status"`
				DaemonPID int    `json:"daemon_pid"`
				Timeline  []struct {
					At time.Time `json:"at"`
				} `json:"timeline"`
			}
			// While mcreboot runs there is no instance 0 (404).
			if resp, err := http.Get(d.base + "/api/v1/instances/0"); err == nil {
				if resp.StatusCode == 200 {
					json.NewDecoder(resp.Body).Decode(&detail)
				}
				resp.Body.Close()
			}
			if detail.Status == "RUNNING" && detail.DaemonPID == in.PID && in.PID != before {
				if len(detail.Timeline) == 0 || detail.Timeline[0].At.Before(rebooted) {
					t.Errorf("after the reboot the timeline starts at %+v, before the reboot at %v: it did not restart", detail.Timeline[:min(1, len(detail.Timeline))], rebooted)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("20 s after a reboot (daemon %d, was %d) mcdash says %+v", in.PID, before, detail)
			}
		}
	})
}

// dashEvent is one SSE event's data.
type dashEvent struct {
	At        time.Time `json:"at"`
	Instances []struct {
		Status string `json:"status"`
	} `json:"instances"`
}

// sse reads n events of the stream at u.
func sse(t *testing.T, u string, n int) []dashEvent {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, ct)
	}
	var out []dashEvent
	sc := bufio.NewScanner(resp.Body)
	timeout := time.AfterFunc(20*time.Second, func() { resp.Body.Close() })
	defer timeout.Stop()
	for sc.Scan() && len(out) < n {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev dashEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		out = append(out, ev)
	}
	return out
}
