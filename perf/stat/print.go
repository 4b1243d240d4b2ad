package stat

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gomck/gomck/perf"
)

// Runs are the counts of one mcperf stat: a sample and elapsed time a
// run (one run, or -r N of them; an interval of -I is one run).
type Runs struct {
	// Target is what was counted: the command line, or "" for the
	// whole instance (perf's 'system wide').
	Target  string
	Events  []Event
	Samples []Sample
	Elapsed []time.Duration
}

// mean is the mean of xs and the standard deviation of that mean
// relative to it, in percent (perf's "+- x.xx%"), 0 for one run.
func mean(xs []float64) (avg, relStddev float64) {
	for _, x := range xs {
		avg += x
	}
	avg /= float64(len(xs))
	if len(xs) < 2 || avg == 0 {
		return avg, 0
	}
	var sq float64
	for _, x := range xs {
		sq += (x - avg) * (x - avg)
	}
	variance := sq / float64(len(xs)-1)
	return avg, math.Sqrt(variance/float64(len(xs))) / avg * 100
}

// row is one event's line: its mean over the runs and what perf puts in
// the comment column.
type row struct {
	ev           Event
	supported    bool
	value, stdev float64
	metric       float64
	metricUnit   string // "" for none
}

func (r Runs) rows() []row {
	taskClockMs, _, _ := r.mean(softwareEvent("task-clock", perf.CountRunNs).value)
	elapsed := r.elapsedSeconds()
	var out []row
	for _, ev := range r.Events {
		v, stdev, ok := r.mean(ev.value)
		rw := row{ev: ev, supported: ok, value: v, stdev: stdev}
		switch {
		case !ok:
		case ev.Unit == "msec":
			if elapsed > 0 {
				rw.metric, rw.metricUnit = v/1e3/elapsed, "CPUs utilized"
			}
		case ev.Unit == "ns":
			rw.metric, rw.metricUnit = v/1e6, "msec"
		case taskClockMs > 0:
			rw.metric, rw.metricUnit = rate(v / (taskClockMs / 1e3))
		}
		out = append(out, rw)
	}
	return out
}

// rate is a count a second with perf's prefix.
func rate(perSec float64) (float64, string) {
	for _, p := range []struct {
		scale float64
		unit  string
	}{{1e9, "G/sec"}, {1e6, "M/sec"}, {1e3, "K/sec"}} {
		if perSec >= p.scale {
			return perSec / p.scale, p.unit
		}
	}
	return perSec, "/sec"
}

// mean is the mean over the runs of what f reads, and its variation;
// ok false if f cannot read it.
func (r Runs) mean(f func(*Sample) (float64, bool)) (avg, relStddev float64, ok bool) {
	xs := make([]float64, len(r.Samples))
	for i := range r.Samples {
		if xs[i], ok = f(&r.Samples[i]); !ok {
			return 0, 0, false
		}
	}
	if len(xs) == 0 {
		return 0, 0, false
	}
	avg, relStddev = mean(xs)
	return avg, relStddev, true
}

func (r Runs) elapsedSeconds() float64 {
	avg, _ := mean(r.elapsedList())
	return avg
}

func (r Runs) elapsedList() []float64 {
	xs := make([]float64, len(r.Elapsed))
	for i, d := range r.Elapsed {
		xs[i] = d.Seconds()
	}
	return xs
}

// formatValue is a count as perf prints it: clocks with two decimals.
func (rw row) formatValue() string {
	switch {
	case !rw.supported:
		return "<not supported>"
	case rw.ev.Unit == "msec":
		return fmt.Sprintf("%.2f", rw.value)
	}
	return fmt.Sprintf("%.0f", rw.value)
}

// line is rw in perf stat's table: count, unit, event, comment and, over
// several runs, the variation.
func (rw row) line(runs int) string {
	unit := rw.ev.Unit
	if unit == "ns" {
		unit = "" // the LWK's times say ns in their names
	}
	s := fmt.Sprintf("%18s %-4s %-32s", rw.formatValue(), unit, rw.ev.Name)
	if rw.metricUnit != "" {
		s += fmt.Sprintf(" # %8.3f %-20s", rw.metric, rw.metricUnit)
	}
	if runs > 1 && rw.supported && rw.value != 0 {
		s += fmt.Sprintf("  ( +- %5.2f%% )", rw.stdev)
	}
	return strings.TrimRight(s, " ")
}

// csv is rw in perf stat -x's layout: value, unit, event, [variation,]
// run time, percentage running, metric value, metric unit.
func (rw row) csv(sep string, runs int, runNs uint64) string {
	f := []string{rw.formatValue(), rw.ev.Unit, rw.ev.Name}
	if runs > 1 {
		f = append(f, fmt.Sprintf("%.2f%%", rw.stdev))
	}
	run := runNs
	if !rw.supported {
		run = 0
	}
	f = append(f, fmt.Sprint(run), "100.00")
	if rw.metricUnit != "" {
		f = append(f, fmt.Sprintf("%.3f", rw.metric), rw.metricUnit)
	} else {
		f = append(f, "", "")
	}
	return strings.Join(f, sep)
}

// PrintTable prints r as perf stat does.
func PrintTable(w io.Writer, r Runs) error {
	target := "system wide"
	if r.Target != "" {
		target = r.Target
	}
	runs := len(r.Samples)
	var b strings.Builder
	fmt.Fprintf(&b, "\n Performance counter stats for '%s'", target)
	if runs > 1 {
		fmt.Fprintf(&b, " (%d runs)", runs)
	}
	b.WriteString(":\n\n")
	for _, rw := range r.rows() {
		b.WriteString(rw.line(runs) + "\n")
	}
	avg, rel := mean(r.elapsedList())
	if runs > 1 {
		fmt.Fprintf(&b, "\n%18.7f +- %.7f seconds time elapsed  ( +- %5.2f%% )\n\n", avg, avg*rel/100, rel)
	} else {
		fmt.Fprintf(&b, "\n%18.9f seconds time elapsed\n\n", avg)
	}
	if runs == 1 && r.Target != "" {
		// The LWK's kernel time is its local calls'; the rest of the
		// thread's run is the app's.
		s := r.Samples[0]
		fmt.Fprintf(&b, "%18.9f seconds user\n%18.9f seconds sys\n\n",
			float64(s.RunNs-min(s.LocalNs, s.RunNs))/1e9, float64(s.LocalNs)/1e9)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PrintCSV prints r as perf stat -x SEP does.
func PrintCSV(w io.Writer, r Runs, sep string) error {
	var b strings.Builder
	for _, rw := range r.rows() {
		b.WriteString(rw.csv(sep, len(r.Samples), r.runNs()) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// runNs is the time the events counted: the mean elapsed time.
func (r Runs) runNs() uint64 { return uint64(r.elapsedSeconds() * 1e9) }

// IntervalHeader is perf stat -I's header line.
const IntervalHeader = "#           time             counts unit events\n"

// PrintInterval prints the one sample of r, at time since the start, as
// perf stat -I does: the time before each row (with sep, CSV).
func PrintInterval(w io.Writer, r Runs, at time.Duration, sep string) error {
	var b strings.Builder
	for _, rw := range r.rows() {
		if sep != "" {
			fmt.Fprintf(&b, "%.9f%s%s\n", at.Seconds(), sep, rw.csv(sep, 1, r.runNs()))
			continue
		}
		fmt.Fprintf(&b, "%16.9f %s\n", at.Seconds(), rw.line(1))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
