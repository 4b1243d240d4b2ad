package task

import "github.com/gomck/gomck/perf/sde"

// CountersAddr is where the app sees its counters page: its auxv entry
// (sde.AuxCounters), 0 if it has none.
func (p *Process) CountersAddr() uint64 {
	for i := 0; i+1 < len(p.Auxv); i += 2 {
		if p.Auxv[i] == sde.AuxCounters {
			return p.Auxv[i+1]
		}
	}
	return 0
}
