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

func statsWith(local, offloaded uint64) stats.Thread {
	return stats.Thread{LocalCalls: local, OffloadCalls: offloaded}
}
