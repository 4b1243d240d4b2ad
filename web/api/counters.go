package api

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf"
	"github.com/gomck/gomck/perf/stat"
)

// Counters is instances/N/counters: the LWK's events (perf.LWKEvents,
// the one table of their names) instance-wide and per LWK CPU.
type Counters struct {
	Elapsed  float64       `json:"elapsed_s"` // of the rates: since the previous poll
	Events   []EventValue  `json:"events"`
	Syscalls []SyscallRate `json:"syscalls"`
	CPUs     []CPUCounters `json:"cpus"`
}

// EventValue is one event's total since boot and its rate a second.
type EventValue struct {
	Name  string  `json:"name"`
	Desc  string  `json:"desc"`
	Unit  string  `json:"unit,omitempty"` // "ns" for a time, "" for a count
	Total float64 `json:"total"`
	Rate  float64 `json:"per_s"`
}

// SyscallRate is one system call's counts since boot and a second.
type SyscallRate struct {
	Syscall
	LocalRate   float64 `json:"local_calls_per_s"`
	OffloadRate float64 `json:"offloaded_calls_per_s"`
}

// CPUCounters are the events one LWK CPU counts itself.
type CPUCounters struct {
	CPU    int                `json:"cpu"`
	Totals map[string]float64 `json:"totals"` // by event name
	Rates  map[string]float64 `json:"per_s"`  // since the previous poll
}

// cpuEvents are the events an LWK CPU record counts, by the counter
// they read.
var cpuEvents = []perf.Counter{perf.CountLocalCalls, perf.CountOffloadCalls, perf.CountPageFaults,
	perf.CountSwitches, perf.CountIdleNs}

func (a *api) counters(w http.ResponseWriter, _ *http.Request, p params) error {
	in, s, err := a.snapshot(p.n)
	if err != nil {
		return err
	}
	secs := in.Elapsed.Seconds()
	perSecond := func(v float64) float64 {
		if secs <= 0 {
			return 0
		}
		return v / secs
	}
	out := Counters{Elapsed: secs, Events: []EventValue{}, Syscalls: []SyscallRate{}, CPUs: []CPUCounters{}}
	for _, ev := range perf.LWKEvents {
		if ev.PerSyscall {
			continue
		}
		e, err := stat.Lookup(perf.LWKPMU + "/" + ev.Name + "/")
		if err != nil {
			return fmt.Errorf("event %s: %w", ev.Name, err)
		}
		total, _ := e.Value(&in.Totals)
		rate, _ := e.Value(&in.Rates)
		out.Events = append(out.Events, EventValue{Name: ev.Name, Desc: ev.Desc, Unit: ev.Unit, Total: total, Rate: perSecond(rate)})
	}
	for nr, c := range in.Totals.Syscalls {
		d := in.Rates.Syscalls[nr]
		out.Syscalls = append(out.Syscalls, SyscallRate{
			Syscall:     Syscall{Nr: nr, Name: c.Name, LocalCalls: c.Local.Calls, LocalNs: c.Local.Ns, OffloadCalls: c.Offloaded.Calls, OffloadNs: c.Offloaded.Ns},
			LocalRate:   perSecond(float64(d.Local.Calls)),
			OffloadRate: perSecond(float64(d.Offloaded.Calls))})
	}
	slices.SortFunc(out.Syscalls, func(a, b SyscallRate) int { return cmp.Compare(a.Nr, b.Nr) })
	before := map[int]CPUCounters{}
	if in.Previous != nil {
		for _, c := range in.Previous.CPUs {
			before[c.Index] = cpuCounters(c)
		}
	}
	for _, c := range s.CPUs {
		cc := cpuCounters(c)
		cc.Rates = map[string]float64{}
		if prev, ok := before[c.Index]; ok {
			for name, v := range cc.Totals {
				cc.Rates[name] = perSecond(max(v-prev.Totals[name], 0))
			}
		}
		out.CPUs = append(out.CPUs, cc)
	}
	return writeJSON(w, out)
}

// cpuCounters are CPU c's own counts, named as the events that read them
// (no rates).
func cpuCounters(c lwk.CPU) CPUCounters {
	sample := perf.Sample{LocalCalls: c.LocalCalls, OffloadCalls: c.OffloadCalls,
		PageFaults: c.PageFaults, Switches: c.Switches, IdleNs: c.IdleNs}
	out := CPUCounters{CPU: c.Index, Totals: map[string]float64{}}
	for _, ev := range perf.LWKEvents {
		if slices.Contains(cpuEvents, ev.Counter) {
			out.Totals[ev.Name] = float64(sample.Of(ev.Counter))
		}
	}
	return out
}
