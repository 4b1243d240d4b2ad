package sde

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf"
)

// TestHeaderCurrent holds lib/lwk_events.h, the C library's names, to
// perf.LWKEvents: run go generate ./perf/sde when this fails.
func TestHeaderCurrent(t *testing.T) {
	got, err := os.ReadFile("lib/lwk_events.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Header()) {
		t.Errorf("lib/lwk_events.h differs from perf.LWKEvents: run go generate ./perf/sde")
	}
	for _, e := range perf.LWKEvents {
		named := strings.Contains(string(got), `"`+e.Name+`"`)
		if want := !e.PerSyscall && !e.CPUOnly; named != want {
			t.Errorf("lwk_events.h names %s: %v, want %v", e.Name, named, want)
		}
	}
}

// TestPublish checks that a page gets each thread's counts once, however
// often they publish, and that Mark starts a page from the counts so far.
func TestPublish(t *testing.T) {
	var page Page
	page.Init()
	var a, b Published
	sa, sb := statsWith(3, 1), statsWith(5, 0)
	Mark(&sb, &b) // b counted 5 local calls before the page
	sb.LocalCalls += 2
	page.Publish(&sa, &a)
	page.Publish(&sa, &a)
	page.Publish(&sb, &b)
	sa.OffloadCalls++
	page.Publish(&sa, &a)
	if page[0] != Magic || page[perf.LWKSyscallsLocal] != 5 || page[perf.LWKSyscallsOffloaded] != 2 {
		t.Errorf("page = %v; want magic, 5 local and 2 offloaded calls", page)
	}
}

// TestPublishEvery checks that Publish carries every event of the page
// with the count perf's table gives it.
func TestPublishEvery(t *testing.T) {
	s := stats.Thread{LocalCalls: 1, LocalNs: 2, OffloadCalls: 3, OffloadNs: 4, RunNs: 5, Switches: 6,
		Migrations: 7, PageFaults: 8, FutexWaits: 9, Signals: 10}
	var page Page
	var pub Published
	page.Publish(&s, &pub)
	if len(words) != len(Events()) {
		t.Errorf("Publish finds %d of the page's %d events", len(words), len(Events()))
	}
	for _, e := range Events() {
		if want := perf.SampleOf(s.Totals()).Of(e.Counter); page[e.ID] != want || want == 0 {
			t.Errorf("%s: page word %d, want %d", e.Name, page[e.ID], want)
		}
	}
}

func statsWith(local, offloaded uint64) stats.Thread {
	return stats.Thread{LocalCalls: local, OffloadCalls: offloaded}
}
