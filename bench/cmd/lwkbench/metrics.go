package main

// The /metrics figure (issue 18), in the first instance's last round,
// after the mcps figures:
//
//  22. A scrape of web/metrics' collector with 1,000 LWK threads (four
//     testdata/c/inspectee processes of main, a sleeper and 248
//     condition-variable waiters blocked in futex waits: a process has at
//     most ikc.SlotCount, 256, threads): an HTTP GET of
//     /metrics from promhttp on a loopback port of this process, whose
//     source reads the instance at each scrape (lwk.Read with what
//     mcdash's Poller reads, the target and layout kept open as the
//     Poller keeps them), then gathers and encodes. Target: < 50 ms. The
//     read's median is in the figure's name: mcdash's Poller reads
//     between scrapes, so its scrape costs the rest.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf/stat"
	"github.com/gomck/gomck/web/metrics"
	"github.com/gomck/gomck/web/source"
)

// Scrapes timed for figure 22, after one that warms up.
const metricsScrapes = 10

// Figure 22's LWK processes and threads: each inspectee is main, a
// sleeper and its waiters.
const (
	metricsProcs   = 4
	metricsThreads = 1000
)

// metricsNeeds is choose's table for figure 22.
func (b *bench) metricsNeeds() map[string][]*series {
	return map[string][]*series{"metrics_scrape_ms": {&b.metricsScrape}}
}

// readingSource is a source.Source that reads its one instance at each
// Instances: a scrape then costs the read, as it would a Poller's poll.
// reads gets the reads' times.
type readingSource struct {
	tg    *inspect.Target
	l     *layout.Layout
	reads *series
}

func (s readingSource) Instances() []source.Instance {
	in := source.Instance{Index: index, Status: source.StatusRunning, At: time.Now()}
	snap, err := lwk.Read(s.tg, s.l, source.What)
	s.reads.add(float64(time.Since(in.At)), err)
	if err != nil {
		in.Status, in.Reason = source.StatusDown, err.Error()
		return []source.Instance{in}
	}
	in.Snap, in.Totals = snap, stat.InstanceTotals(snap)
	return []source.Instance{in}
}

func (s readingSource) Instance(n int) (source.Instance, bool) {
	if n != index {
		return source.Instance{}, false
	}
	return s.Instances()[0], true
}

func (readingSource) Updates(ctx context.Context) <-chan struct{} { return ctx.Done() }
func (readingSource) ReadOnly() bool                              { return false }

// measureMetrics takes figure 22 in the booted instance.
func (b *bench) measureMetrics() {
	s := &b.metricsScrape
	if s.skip || s.err != nil {
		return
	}
	progressf("/metrics: %d processes of %d LWK threads", metricsProcs, metricsThreads/metricsProcs)
	stop, err := b.inspectees(metricsProcs, 0, metricsThreads/metricsProcs-2)
	if err != nil {
		s.add(0, err)
		return
	}
	defer stop()
	tg, l, err := (&cli.Target{Options: inspect.Options{Instance: index}}).Open()
	if err != nil {
		s.add(0, err)
		return
	}
	defer tg.Close()
	reg := prometheus.NewRegistry()
	var reads series
	reg.MustRegister(metrics.NewCollector(readingSource{tg, l, &reads}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.add(0, err)
		return
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/metrics"
	text, err := scrapeOnce(url)
	reads.samples = nil // the warm-up's
	if err == nil && !strings.Contains(text, fmt.Sprintf("mck_threads{os=\"%d\"} %d\n", index, metricsThreads)) {
		err = fmt.Errorf("the scrape does not count %d threads:\n%s", metricsThreads, text)
	}
	for i := 0; i < metricsScrapes && err == nil; i++ {
		start := time.Now()
		_, err = scrapeOnce(url)
		s.add(float64(time.Since(start)), err)
	}
	if err != nil && s.err == nil {
		s.add(0, err)
	}
	b.metricsRead.samples = append(b.metricsRead.samples, reads.samples...)
	progressf("  %-24s %10.2f ms, of which the read %.2f ms", "/metrics scrape", s.median()/1e6, reads.median()/1e6)
}

// scrapeOnce is the body of a GET of url.
func scrapeOnce(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status + ": " + string(body))
	}
	return string(body), err
}

// metricsFigure is figure 22.
func (b *bench) metricsFigure() Figure {
	f := limitFig("metrics_scrape_ms", "/metrics scrape (read, gather, encode), 1,000 LWK threads", "ns",
		&b.metricsScrape, 50e6, "< 50 ms")
	if len(b.metricsRead.samples) > 0 {
		f.Name += fmt.Sprintf(" (median read %.2f ms)", b.metricsRead.median()/1e6)
	}
	return f
}
