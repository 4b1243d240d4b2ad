package lwktest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/web/metrics"
	"github.com/gomck/gomck/web/metrics/metricstest"
	"github.com/gomck/gomck/web/source"
)

// TestMetrics serves the /metrics collector over a Poller of a booted
// instance on a loopback port and scrapes it while testdata/c/counters,
// which makes known numbers of getpid (local) and /dev/null writes
// (offloaded), waits, and after it has ended: promtool passes the
// exposition, and the per-syscall counters are the program's calls, the
// same once its thread's counts are the instance's ended sums.
func TestMetrics(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	const getpids, writes = 5000, 300
	app := launch(t, in, testprog.MustC(t, "counters"), fmt.Sprint(getpids), fmt.Sprint(writes))
	startReady(t, app)
	pid := app.Process.Pid

	poller, err := source.NewPoller(source.Options{Instances: []int{in.Index}, Refresh: source.MinRefresh})
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(poller))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()

	idx := fmt.Sprint(in.Index)
	calls := func(name, kind string) string {
		return fmt.Sprintf("mck_syscalls_total{kind=%s,os=%s,syscall=%s}", kind, idx, name)
	}
	getpid, write := calls("getpid", "local"), calls("write", "offload")
	// The program's calls, and its "ready" line: one more write.
	want := map[string]float64{getpid: getpids, write: writes + 1}
	procLocal := fmt.Sprintf("mck_process_syscalls_total{kind=local,os=%s,pid=%d}", idx, pid)

	// reached reports whether the wanted counters have their values: the
	// "ready" line reaches the test before its write's answer is counted.
	reached := func(counters map[string]float64) bool {
		for k, v := range want {
			if counters[k] != v {
				return false
			}
		}
		return true
	}
	// until scrapes until the instance is read with the program as
	// alive says and the counts reached (or 10 s passed: check then
	// says which is off), and checks that scrape.
	until := func(alive bool) map[string]float64 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			text := scrapeMetrics(t, srv.URL)
			counters := metricstest.Series(t, text, dto.MetricType_COUNTER)
			_, ok := counters[procLocal]
			if ok == alive && (reached(counters) || time.Now().After(deadline)) {
				metricstest.Promtool(t, text)
				return counters
			}
			if time.Now().After(deadline) {
				t.Fatalf("no scrape with pid %d alive=%v in 10 s; the last:\n%s", pid, alive, text)
			}
			time.Sleep(source.MinRefresh)
		}
	}
	check := func(when string, counters map[string]float64) {
		t.Helper()
		for k, v := range want {
			if counters[k] != v {
				t.Errorf("%s: %s = %v, want %v", when, k, counters[k], v)
			}
		}
	}
	alive := until(true)
	check("running", alive)
	if alive[procLocal] < getpids {
		t.Errorf("%s = %v, the program made %d getpid calls", procLocal, alive[procLocal], getpids)
	}

	app.Process.Signal(syscall.SIGTERM)
	app.Wait()
	ended := until(false)
	check("ended", ended)
	for k, v := range alive {
		if e, ok := ended[k]; ok && e < v {
			t.Errorf("%s went from %v to %v", k, v, e)
		}
	}
}

// scrapeMetrics is what GET url answers.
func scrapeMetrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, b)
	}
	return string(b)
}
