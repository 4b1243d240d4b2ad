package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/inspect/lwk"
)

func TestPollerWithoutInstances(t *testing.T) {
	t.Setenv(control.RunDirEnv, t.TempDir())
	for _, tc := range []struct {
		name      string
		instances []int
		want      int
	}{
		{"every booted", nil, 0},
		{"watched", []int{3, 5}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPoller(Options{Instances: tc.instances, Refresh: MinRefresh})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			select {
			case <-p.Updates(ctx):
			case <-ctx.Done():
				t.Fatal("no poll within 5 s")
			}
			got := p.Instances()
			if len(got) != tc.want {
				t.Fatalf("Instances() = %+v, want %d", got, tc.want)
			}
			for _, in := range got {
				if in.Status != StatusDown || !strings.Contains(in.Reason, NotBooted) || in.Snap != nil {
					t.Errorf("instance %d: status %q reason %q, want %s saying %q", in.Index, in.Status, in.Reason, StatusDown, NotBooted)
				}
			}
			if _, ok := p.Instance(4); ok {
				t.Error("Instance(4) found an instance not watched")
			}
		})
	}
}

func TestPollerOptions(t *testing.T) {
	for _, o := range []Options{{Refresh: time.Millisecond}, {Instances: []int{-1}}} {
		if p, err := NewPoller(o); err == nil {
			p.Close()
			t.Errorf("NewPoller(%+v) took it", o)
		}
	}
}

func TestOpenFileBad(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(garbage, []byte(strings.Repeat("not a dump\n", 100)), 0o600)
	for _, path := range []string{filepath.Join(dir, "missing"), dir, empty, garbage} {
		if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), "dump") {
			t.Errorf("OpenFile(%s) = %v, want an error about the dump", path, err)
		}
	}
}

func TestTimelineBounded(t *testing.T) {
	s := &lwk.Snapshot{CPUs: []lwk.CPU{{Index: 0, Current: 7}, {Index: 1}},
		Procs: []lwk.Process{{PID: 7, Exe: "/bin/spin", Threads: []lwk.Thread{{TID: 7, PID: 7}}}}}
	var tl []Tick
	for range TimelineLen + 5 {
		tl = appendTick(tl, TickOf(s, time.Now()))
	}
	if len(tl) != TimelineLen {
		t.Fatalf("timeline has %d ticks, want %d", len(tl), TimelineLen)
	}
	if got := tl[0].CPUs; got[0] != (CPUTick{CPU: 0, TID: 7, PID: 7, Comm: "spin"}) || got[1] != (CPUTick{CPU: 1}) {
		t.Errorf("tick = %+v", got)
	}
}
