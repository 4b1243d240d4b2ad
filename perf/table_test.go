package perf

import "testing"

// TestSync follows an event and a member of its group through enables
// and disables: counts and running time accrue only while both are on,
// enabled time while the event itself is.
func TestSync(t *testing.T) {
	leader := &Event{Counter: CountPageFaults}
	leader.Leader = leader
	member := &Event{Counter: CountRunNs, On: true, Leader: leader}
	events := []*Event{leader, member}
	at := func(run, faults uint64) {
		for _, e := range events {
			e.Sync(Sample{RunNs: run, PageFaults: faults})
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
