package stat

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gomck/gomck/perf"
)

// Event is one event of mcperf stat, resolved.
type Event struct {
	Name string // as asked
	// Unit is "msec" for the clocks (perf prints them so), "ns" for the
	// LWK's times, "" for counts.
	Unit string
	// value is the event's count in s; ok false when it cannot count
	// there (perf's <not supported>).
	value func(s *Sample) (v float64, ok bool)
}

// Value is e's count in s; ok false when e cannot count in s.
func (e Event) Value(s *Sample) (float64, bool) { return e.value(s) }

// DefaultEvents are mcperf stat's events when -e is not given: perf stat's
// software ones and the LWK's view of the calls.
var DefaultEvents = []string{"task-clock", "context-switches", "cpu-migrations", "page-faults",
	"lwk/syscalls_local/", "lwk/syscalls_offloaded/", "lwk/offload_wait_ns/"}

// ErrUnknown is the error of an event name no table has; its text is
// perf's.
type ErrUnknown struct{ Name string }

func (e ErrUnknown) Error() string {
	return fmt.Sprintf("event syntax error: '%s'\n%s\\___ parser error\nRun 'mcperf list' for a list of valid events",
		e.Name, strings.Repeat(" ", len("event syntax error: '")))
}

// Parse resolves a comma-separated event list, as perf's -e takes it (an
// lwk/.../ event's own commas are inside its slashes).
func Parse(list string) ([]Event, error) {
	var out []Event
	for _, name := range splitEvents(list) {
		e, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, ErrUnknown{list}
	}
	return out, nil
}

// splitEvents splits at the commas outside a PMU's slashes.
func splitEvents(list string) []string {
	var out []string
	start, inPMU := 0, false
	for i, c := range list {
		switch {
		case c == '/':
			inPMU = !inPMU
		case c == ',' && !inPMU:
			out = append(out, list[start:i])
			start = i + 1
		}
	}
	return append(out, list[start:])
}

// Lookup resolves one event name: a Linux software or hardware event, an
// LWK event as lwk/NAME/ (lwk/NAME,syscall=N/ for a per-syscall one) or
// sde:::lwk::NAME.
func Lookup(name string) (Event, error) {
	for _, sw := range perf.SoftwareEvents {
		if sw.Name == name {
			return softwareEvent(name, sw.Counter), nil
		}
	}
	if hardwareName(name) {
		return Event{Name: name, value: func(*Sample) (float64, bool) { return 0, false }}, nil
	}
	lwkName, nr, ok := lwkEventName(name)
	if !ok {
		return Event{}, ErrUnknown{name}
	}
	ev, ok := perf.LookupLWK(lwkName)
	if !ok || ev.PerSyscall != (nr >= 0) {
		return Event{}, ErrUnknown{name}
	}
	return lwkEvent(name, ev, nr), nil
}

// lwkEventName takes the LWK event's name, and the system call of a per-syscall
// one (-1 if none), out of lwk/NAME[,syscall=N]/ or sde:::lwk::NAME.
func lwkEventName(name string) (event string, nr int, ok bool) {
	if n, ok := strings.CutPrefix(name, "sde:::"+perf.LWKPMU+"::"); ok {
		return n, -1, true
	}
	inner, ok := strings.CutPrefix(name, perf.LWKPMU+"/")
	if !ok {
		return "", 0, false
	}
	if inner, ok = strings.CutSuffix(inner, "/"); !ok {
		return "", 0, false
	}
	event, terms, hasTerms := strings.Cut(inner, ",")
	if !hasTerms {
		return event, -1, true
	}
	v, ok := strings.CutPrefix(terms, perf.LWKSyscallField+"=")
	n, err := strconv.ParseUint(v, 0, 12) // the format's config:8-19
	if !ok || err != nil {
		return "", 0, false
	}
	return event, int(n), true
}

func softwareEvent(name string, c perf.Counter) Event {
	e := Event{Name: name}
	switch c {
	case perf.CountRunNs:
		e.Unit = "msec"
		e.value = func(s *Sample) (float64, bool) {
			if s.CPUWide {
				return float64(s.BusyNs) / 1e6, true
			}
			return float64(s.RunNs) / 1e6, true
		}
	default:
		e.value = count(func(s *Sample) uint64 { return perf.SampleOf(s.Counters).Of(c) })
	}
	return e
}

func count(f func(s *Sample) uint64) func(*Sample) (float64, bool) {
	return func(s *Sample) (float64, bool) { return float64(f(s)), true }
}

func lwkEvent(name string, ev perf.LWKEvent, nr int) Event {
	e := Event{Name: name, Unit: ev.Unit}
	perCall := func(f func(s *Sample) uint64) func(*Sample) (float64, bool) {
		return func(s *Sample) (float64, bool) {
			if s.Syscalls == nil { // read without per-syscall counts
				return 0, false
			}
			return float64(f(s)), true
		}
	}
	switch ev.ID {
	case perf.LWKIdleNs:
		e.value = func(s *Sample) (float64, bool) { return float64(s.IdleNs), s.CPUWide }
	case perf.LWKSyscallLocalCalls:
		e.value = perCall(func(s *Sample) uint64 { return s.Syscalls[nr].Local.Calls })
	case perf.LWKSyscallLocalNs:
		e.value = perCall(func(s *Sample) uint64 { return s.Syscalls[nr].Local.Ns })
	case perf.LWKSyscallOffloadedCalls:
		e.value = perCall(func(s *Sample) uint64 { return s.Syscalls[nr].Offloaded.Calls })
	case perf.LWKSyscallOffloadedNs:
		e.value = perCall(func(s *Sample) uint64 { return s.Syscalls[nr].Offloaded.Ns })
	default:
		e.value = count(func(s *Sample) uint64 { return perf.SampleOf(s.Counters).Of(ev.Counter) })
	}
	return e
}
