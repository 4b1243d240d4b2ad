package perf

import (
	"testing"

	"github.com/gomck/gomck/kernel/stubcount"
)

// TestSync follows an event and a member of its group through enables
// and disables: counts and running time accrue only while both are on,
// enabled time while the event itself is.
func TestSync(t *testing.T) {
	leader := &Event{Counter: CountPageFaults, Targets: []Target{{TID: 1}}}
	leader.Leader = leader
	member := &Event{Counter: CountRunNs, On: true, Leader: leader, Targets: []Target{{TID: 1}}}
	events := []*Event{leader, member}
	at := func(run, faults uint64) {
		for _, e := range events {
			e.Sync(0, Sample{RunNs: run, PageFaults: faults})
		}
	}
	at(100, 10) // opened: leader disabled
	at(200, 15)
	leader.On = true
	at(300, 18)
	member.On = false
	at(450, 30)
	leader.On = false
	at(1000, 99)
	tests := []struct {
		name                    string
		e                       *Event
		count, enabled, running uint64
	}{
		{"leader", leader, 18 - 15 + 30 - 18, 250, 250},
		{"member", member, 100, 200, 100},
	}
	for _, tt := range tests {
		if tt.e.Count != tt.count || tt.e.Enabled != tt.enabled || tt.e.Running != tt.running {
			t.Errorf("%s: count %d enabled %d running %d, want %d %d %d", tt.name,
				tt.e.Count, tt.e.Enabled, tt.e.Running, tt.count, tt.enabled, tt.running)
		}
	}
}

// TestSyncInherited checks that an event sums its targets: a thread
// created later starts from zero and counts on its own clock.
func TestSyncInherited(t *testing.T) {
	e := &Event{Counter: CountLocalCalls, On: true, Targets: []Target{{TID: 1}}}
	e.Leader = e
	e.Sync(0, Sample{RunNs: 100, LocalCalls: 5}) // opened
	e.Targets = append(e.Targets, Target{TID: 2, Started: true})
	e.Sync(0, Sample{RunNs: 150, LocalCalls: 9})
	e.Sync(e.Target(2), Sample{RunNs: 30, LocalCalls: 7})
	e.Drop(e.Target(1))
	e.Sync(0, Sample{RunNs: 40, LocalCalls: 8})
	if e.Count != 4+8 || e.Enabled != 50+40 || e.Running != 90 || len(e.Targets) != 1 {
		t.Errorf("count %d enabled %d running %d, %d targets; want 12 90 90, 1", e.Count, e.Enabled, e.Running, len(e.Targets))
	}
}

// TestSyncMultiplexed: a Linux event's running time leaves out the time
// Linux did not count it (Sample.HostLost), its enabled time does not.
func TestSyncMultiplexed(t *testing.T) {
	e := &Event{Counter: CountHost, On: true, Targets: []Target{{TID: 1}}}
	e.Leader = e
	e.Sync(0, Sample{RunNs: 100, Host: 7, HostLost: 5}) // opened
	e.Sync(0, Sample{RunNs: 400, Host: 1007, HostLost: 105})
	e.Sync(0, Sample{RunNs: 500, Host: 1207, HostLost: 105})
	if e.Count != 1200 || e.Enabled != 400 || e.Running != 300 {
		t.Errorf("count %d enabled %d running %d; want 1200 400 300", e.Count, e.Enabled, e.Running)
	}
}

// TestHostWatchers: the table counts the Linux events among those
// counting its process, for the switch path to skip it while there are
// none.
func TestHostWatchers(t *testing.T) {
	var tb Table
	host, own := &Event{Host: stubcount.New(make([]byte, AttrSize), nil)}, &Event{}
	for _, e := range []*Event{host, own, host} {
		tb.Watch(e)
	}
	if n := tb.Hosts.Load(); n != 1 {
		t.Fatalf("%d Linux events watching, want 1", n)
	}
	tb.Unwatch(own)
	tb.Unwatch(host)
	tb.Unwatch(host)
	if n := tb.Hosts.Load(); n != 0 {
		t.Errorf("%d Linux events watching after their Unwatch, want 0", n)
	}
}

// TestTableRemoveLeader checks that closing a group's leader leaves its
// members groups of their own, as Linux does.
func TestTableRemoveLeader(t *testing.T) {
	var tb Table
	leader := &Event{FD: 3}
	leader.Leader = leader
	a, b := &Event{FD: 4, Leader: leader}, &Event{FD: 5, Leader: leader}
	for _, e := range []*Event{leader, a, b} {
		tb.Add(e)
	}
	if g := tb.Group(leader); len(g) != 3 || g[0] != leader {
		t.Fatalf("group of the leader: %d events, leader first %v; want 3, true", len(g), g[0] == leader)
	}
	tb.Remove(leader)
	if tb.Lookup(3) != nil || tb.N.Load() != 2 {
		t.Fatalf("after removing fd 3: lookup %v, %d events; want nil, 2", tb.Lookup(3), tb.N.Load())
	}
	for _, e := range []*Event{a, b} {
		if e.Leader != e || len(tb.Group(e)) != 1 {
			t.Errorf("fd %d: led by fd %d in a group of %d; want a group of its own", e.FD, e.Leader.FD, len(tb.Group(e)))
		}
	}
}

// TestSoftwareEvents checks that every software config has a name.
func TestSoftwareEvents(t *testing.T) {
	for config, ev := range SoftwareEvents {
		if ev.Name == "" {
			t.Errorf("software config %d has no name", config)
		}
	}
}

// TestLWKEvents checks that the LWK event table has unique names and ids,
// in id order, and that a config splits into its format's fields.
func TestLWKEvents(t *testing.T) {
	seen := map[string]bool{}
	for i, e := range LWKEvents {
		if seen[e.Name] || e.ID != i+1 {
			t.Errorf("event %d %q: duplicate or out of order", e.ID, e.Name)
		}
		seen[e.Name] = true
		if got, ok := LookupLWK(e.Name); !ok || got.ID != e.ID {
			t.Errorf("LookupLWK(%q) = %+v, %v", e.Name, got, ok)
		}
	}
	if id, nr := LWKEventOf(LWKSyscallOffloadedCalls | 1<<8); id != LWKSyscallOffloadedCalls || nr != 1 {
		t.Errorf("LWKEventOf: event %d nr %d", id, nr)
	}
}

// TestNextType checks the lwk PMU's type against the host's PMU types.
func TestNextType(t *testing.T) {
	tests := []struct {
		used []uint32
		want uint32
	}{
		{nil, TypeMax},
		{[]uint32{1, 2, 5}, TypeMax},
		{[]uint32{1, 2, 5, 8, 9, 10}, 11},
		{[]uint32{4, 30, 7}, 31},
	}
	for _, tt := range tests {
		if got := nextType(tt.used); got != tt.want {
			t.Errorf("nextType(%v) = %d, want %d", tt.used, got, tt.want)
		}
	}
}

// TestLWKSysfs checks the lwk PMU's files as Linux writes a dynamic
// PMU's.
func TestLWKSysfs(t *testing.T) {
	files := LWKSysfs(11)
	for name, want := range map[string]string{
		"type":                        "11\n",
		"events/syscalls_offloaded":   "event=0x2\n",
		"events/offload_wait_ns":      "event=0x4\n",
		"events/offload_wait_ns.unit": "ns\n",
		"events/syscall_offloaded_ns": "event=0xe,syscall=?\n",
		"events/syscall_local_calls":  "event=0xb,syscall=?\n",
		"format/event":                "config:0-7\n",
		"format/syscall":              "config:8-19\n",
	} {
		if got := files[name]; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if _, ok := files["events/syscalls_local.unit"]; ok {
		t.Errorf("a count has a unit")
	}
}
