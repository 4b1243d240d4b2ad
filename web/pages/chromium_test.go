package pages

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gomck/gomck/web/pages/browser"
	"github.com/gomck/gomck/web/source"
)

// TestChromium opens the pages of a hand-made source in headless
// Chromium: the charts draw from the binary's echarts, the scripts run
// without an event stream (none is mounted here) and keep the page.
func TestChromium(t *testing.T) {
	if _, err := browser.Chromium(); err != nil {
		t.Skip(err)
	}
	srv := httptest.NewServer(Handler(fixed{ins: []source.Instance{running()}}, Options{Linux: linux{}}))
	defer srv.Close()
	b, err := browser.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Open(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText("#procs-0", "/bin/spin", 5*time.Second); err != nil {
		t.Error(err)
	}
	took, err := b.FirstRender(srv.URL+"/instances/0?rate=10", chartTimeline, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first render %v", took)
	for _, id := range []string{chartTimeline, chartRates, chartOffload, chartMemory} {
		if s, err := b.WaitChart(id, 5*time.Second); err != nil || s.Width == 0 {
			t.Errorf("chart %s: %+v, %v", id, s, err)
		}
	}
	// The refresh (no stream here: the page's own timer) keeps the page whole.
	if err := b.WaitText("#live", "●", 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := b.WaitText("#offloaded", "write", time.Second); err != nil {
		t.Error(err)
	}
	if err := b.Open(srv.URL + "/instances/0/processes/10"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText(".threads", "futex", 5*time.Second); err != nil {
		t.Error(err)
	}
}

// TestRatesLine: the rates chart grows a point an update, on a category
// axis, from a page first drawn at a poll without a rate (the first after
// a boot).
func TestRatesLine(t *testing.T) {
	if _, err := browser.Chromium(); err != nil {
		t.Skip(err)
	}
	first := running()
	first.Elapsed = 0
	src := &changing{ins: []source.Instance{first}, updates: make(chan struct{})}
	srv := httptest.NewServer(Handler(src, Options{}))
	defer srv.Close()
	b, err := browser.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.FirstRender(srv.URL+"/instances/0?rate=10", chartRates, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		in := running()
		in.At = in.At.Add(time.Duration(i) * time.Second)
		in.Rates.LocalCalls = uint64(100 * i)
		src.set(in)
		if err := b.WaitText("#local-rate", fmt.Sprintf("%d/s", 100*i), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Eval(`(() => { const o = echarts.getInstanceByDom(document.getElementById("rates")).getOption();
		return o.xAxis[0].type + " " + o.series[0].data.map(d => d.value).join(","); })()`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "category 100,200,300"; got != want {
		t.Errorf("rates chart: %q, want %q", got, want)
	}
}
