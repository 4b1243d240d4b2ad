package pages

import (
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
