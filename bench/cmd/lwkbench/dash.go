package main

// The dashboard figures (issue 18), in the last round's main instance
// after the counting figures, with one mcdash (-i 0) and a headless
// Chromium (web/pages/browser) on the Linux CPUs, in the background
// (SCHED_IDLE): on this host, whose one Linux CPU serves the offloaded
// calls, it yields that CPU to mcexec; a person's browser would run on
// another machine and cost the host nothing.
//
//  23. The instance page's first render: from Chromium's navigation to
//     the rates chart's canvas drawn, fresh each time (echarts loaded
//     from mcdash again: it sends no cache validators). Target: < 1 s.
//  24. The LWK getpid loop while that page is open at 10 Hz (its update
//     stream at ?rate=10 paces the poller to 10 reads a second, and the
//     page redraws at each update), against the same loop while mcdash
//     is stopped (SIGSTOP: no reads of the daemon, no updates, the page
//     draws nothing). Switched every second and judged as figure 11.
//     Target: <= 1.01x.
//  25. The same for the 1-byte /dev/null write loop (offloaded calls).
//  26. The getpid loop of 24 with the page closed and its update stream
//     read at 10 Hz by a plain HTTP client instead: mcdash's own cost,
//     without a browser's rendering on the host (a person's browser
//     runs on another machine). Target: <= 1.01x.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomck/gomck/web/pages/browser"
)

var dashDur = flag.Duration("dash-disturbance", 40e9, "length of each of figures dash_disturbance_*'s LWK runs, mcdash switched on and off every second (at least 5s)")

// dashRenders is how many first renders figure 23 times.
const dashRenders = 10

// dashSeries are the samples of figures 23 to 26.
type dashSeries struct {
	firstRender series
	toggledLoops
	// streamOn, streamOff, streamRatios: figure 26.
	streamOn, streamOff, streamRatios series
}

func (s *dashSeries) all() []*series {
	return []*series{&s.firstRender, &s.getpidOn, &s.getpidOff, &s.getpidRatios, &s.offloadOn, &s.offloadOff, &s.offloadRatios,
		&s.streamOn, &s.streamOff, &s.streamRatios}
}

// dashNeeds is choose's table for figures 23 to 26.
func (b *bench) dashNeeds() map[string][]*series {
	s := &b.dash
	return map[string][]*series{
		"dash_first_render_ms":     {&s.firstRender},
		"dash_disturbance_getpid":  {&s.getpidOn, &s.getpidOff, &s.getpidRatios},
		"dash_disturbance_offload": {&s.offloadOn, &s.offloadOff, &s.offloadRatios},
		"dash_disturbance_stream":  {&s.streamOn, &s.streamOff, &s.streamRatios},
	}
}

// measureDash takes figures 23 to 26 in the booted instance.
func (b *bench) measureDash() {
	s := &b.dash
	if allSkipped(s.all()) {
		return
	}
	fail := func(err error, ss ...*series) {
		for _, x := range ss {
			if !x.skip {
				x.add(0, err)
			}
		}
	}
	progressf("dashboard: mcdash in headless Chromium")
	dash, base, err := b.startDash()
	if err != nil {
		fail(err, s.all()...)
		return
	}
	defer dash.stop()
	br, err := browser.Start(true)
	if err != nil {
		fail(err, s.all()...)
		return
	}
	defer br.Close()
	page := fmt.Sprintf("%s/instances/%d?rate=10", base, index)
	for i := 0; i < dashRenders && !s.firstRender.skip && s.firstRender.err == nil; i++ {
		d, err := br.FirstRender(page, "rates", runTimeout)
		s.firstRender.add(float64(d), err)
	}
	if !s.firstRender.skip {
		progressf("  %-24s %10.2f ms", "first render", s.firstRender.median()/1e6)
	}
	for _, m := range s.loops() {
		if m.on.skip {
			continue
		}
		progressf("dashboard: the LWK %s loop, mcdash at 10 Hz on and off every second", m.call)
		ws, ts, err := b.dashRun(dash, br, page, m.call)
		recordToggled(m.call, "mcdash", "mcdash on/off", ws, ts, err, m.on, m.off, m.ratios)
	}
	if !s.streamOn.skip {
		progressf("dashboard: the LWK getpid loop, mcdash's stream read at 10 Hz without a browser, on and off every second")
		ws, ts, err := b.streamRun(dash, br, page)
		recordToggled("getpid", "mcdash", "mcdash on/off", ws, ts, err, &s.streamOn, &s.streamOff, &s.streamRatios)
	}
}

// streamRun closes the page in the browser and reads its update stream
// with an HTTP client while syscall_windows getpid runs and dash is
// stopped and continued; it leaves dash running.
func (b *bench) streamRun(dash *watcher, br *browser.Browser, page string) ([]window, []toggle, error) {
	if err := br.Open("about:blank"); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, *dashDur+runTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page+"&live=stream", nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: %s", req.URL, res.Status)
	}
	go io.Copy(io.Discard, res.Body) // until cancel ends the request
	ws, ts, err := b.toggledRun(ctx, dash, *dashDur, "getpid")
	if _, onErr := dash.toggle(true); err == nil {
		err = onErr
	}
	return ws, ts, err
}

// dashRun opens page, waits for its charts, and runs syscall_windows
// CALL while dash is stopped and continued; it leaves dash running.
func (b *bench) dashRun(dash *watcher, br *browser.Browser, page, call string) ([]window, []toggle, error) {
	if err := br.Open(page); err != nil {
		return nil, nil, err
	}
	if _, err := br.WaitChart("rates", runTimeout); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, *dashDur+runTimeout)
	defer cancel()
	ws, ts, err := b.toggledRun(ctx, dash, *dashDur, call)
	if _, onErr := dash.toggle(true); err == nil {
		err = onErr
	}
	return ws, ts, err
}

// startDash starts bin/mcdash on a free loopback port for the instance,
// writing what its buttons make in a temporary directory, and returns it
// with its address once it listens.
func (b *bench) startDash() (*watcher, string, error) {
	out, err := os.MkdirTemp("", "lwkbench-mcdash-")
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(b.ctx, filepath.Join(b.bin, "mcdash"), "-listen", "127.0.0.1:0", "-i", strconv.Itoa(index), "-out", out)
	addr := &listenLine{said: make(chan struct{})}
	cmd.Stdout = addr
	w, err := watch("mcdash", cmd, addr.said)
	if err != nil {
		return nil, "", err
	}
	return w, addr.addr, nil
}

// listenLine finds mcdash's "mcdash: listening on http://ADDR/" in what
// it is given, and closes said once it has it.
type listenLine struct {
	mu   sync.Mutex
	buf  strings.Builder
	addr string // http://ADDR
	said chan struct{}
}

func (l *listenLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addr != "" {
		return len(p), nil
	}
	l.buf.Write(p)
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), "mcdash: listening on "); ok && strings.HasSuffix(line, "/") {
			l.addr = strings.TrimSuffix(a, "/")
			close(l.said)
			break
		}
	}
	return len(p), nil
}

// dashFigures are figures 23 to 26.
func (b *bench) dashFigures(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	s := &b.dash
	return []Figure{
		limitFig("dash_first_render_ms", "mcdash instance page, first render in headless Chromium (navigation to the first chart drawn)", "ns",
			&s.firstRender, float64(time.Second), "< 1 s"),
		paired(ratioFig("dash_disturbance_getpid", "LWK getpid loop beside mcdash open in Chromium at 10 Hz, on and off every 1 s", "ns/op",
			&s.getpidOn, 1.01, false, "<= 1.01x", namedSeries{"mcdash stopped", &s.getpidOff}), &s.getpidRatios),
		paired(ratioFig("dash_disturbance_offload", "LWK /dev/null write loop (offloaded) beside mcdash open in Chromium at 10 Hz, on and off every 1 s", "ns/op",
			&s.offloadOn, 1.01, false, "<= 1.01x", namedSeries{"mcdash stopped", &s.offloadOff}), &s.offloadRatios),
		paired(ratioFig("dash_disturbance_stream", "LWK getpid loop beside mcdash streaming its page at 10 Hz to an HTTP client (no browser), on and off every 1 s", "ns/op",
			&s.streamOn, 1.01, false, "<= 1.01x", namedSeries{"mcdash stopped", &s.streamOff}), &s.streamRatios),
	}
}
