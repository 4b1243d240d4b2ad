// Package metricstest checks a /metrics exposition for the tests of
// web/metrics: with promtool, as Prometheus's own tool lints it, and by
// reading its series back with client_golang's parser.
package metricstest

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Promtool runs `promtool check metrics` on text, which must pass with no
// lint warnings; without promtool (Debian's prometheus, scripts/deps.sh)
// it skips tb.
func Promtool(tb testing.TB, text string) {
	tb.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		tb.Skip("promtool is not installed (Debian's prometheus, scripts/deps.sh)")
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		tb.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// Series are the values of text's series of type typ, by name and
// labels as `name{k=v,...}`, the labels sorted.
func Series(tb testing.TB, text string, typ dto.MetricType) map[string]float64 {
	tb.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		tb.Fatalf("parsing the exposition: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetType() != typ {
			continue
		}
		for _, m := range mf.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue()
			if typ == dto.MetricType_COUNTER {
				v = m.GetCounter().GetValue()
			}
			out[fmt.Sprintf("%s{%s}", mf.GetName(), strings.Join(labels, ","))] = v
		}
	}
	return out
}
