package procview

import (
	"fmt"
	"os"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
	"github.com/gomck/gomck/perf"
)

// Instance is what the views show of an LWK instance. The kernel fills it
// at boot; the views read the records it points to when an app names a
// file, as the kernel's other readers do.
type Instance struct {
	CPUs     []int // the host CPU of each LWK CPU
	CPUNodes []int // the NUMA node of each LWK CPU
	Procs    *task.Table
	Alloc    *mm.Allocator
	// PGID is a process's group: Linux keeps it, where setpgid runs.
	PGID func(*task.Process) int
	// Log reports what could not be rendered (the kmsg ring's Printf).
	Log func(format string, args ...any)
	// LWKType is the lwk PMU's perf type.
	LWKType uint32
	// Slice is a thread's run time not yet in its counters, when the
	// caller may read it (its own CPU's current thread), else 0.
	Slice func(*task.Thread) uint64
}

// Views is an instance's view directory. A nil *Views renders nothing:
// the app then sees Linux's files.
type Views struct {
	root string
	in   Instance
}

// Make creates the view directory root afresh with its /sys part; /proc
// parts are rendered when an app names them.
func Make(root string, in Instance) (*Views, error) {
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("view directory: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("view directory: %w", err)
	}
	v := &Views{root: root, in: in}
	if err := v.renderCPUs(); err != nil {
		return nil, fmt.Errorf("%s: %w", sysCPU, err)
	}
	if err := v.renderNodes(); err != nil {
		return nil, fmt.Errorf("%s: %w", sysNode, err)
	}
	if err := v.renderPMUs(); err != nil {
		return nil, fmt.Errorf("%s: %w", perf.HostPMUs, err)
	}
	return v, nil
}

// Remove removes the view directory, at shutdown.
func (v *Views) Remove() {
	if v != nil {
		os.RemoveAll(v.root)
	}
}

// Forget removes an ended process's view.
func (v *Views) Forget(p *task.Process) {
	if v != nil && p.Viewed.Load() {
		os.RemoveAll(v.procDir(p.PID))
	}
}

// nodes lists the NUMA nodes of the LWK's memory and CPUs.
func (v *Views) nodes() []int {
	seen := map[int]bool{}
	var out []int
	add := func(n int) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range v.in.Alloc.Nodes {
		add(n.Node)
	}
	for _, n := range v.in.CPUNodes {
		add(n)
	}
	return out
}
