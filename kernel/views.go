package kernel

import (
	"fmt"
	"path/filepath"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/kernel/procview"
	"github.com/gomck/gomck/kernel/task"
)

// The LWK's views of /proc and /sys (McKernel's mcoverlayfs) are package
// procview's; the instance makes them at boot, hands them the paths its
// syscalls name, and drops a process's view when the process ends.

// makeViews renders the instance's view directory.
func (k *OS) makeViews() (*procview.Views, error) {
	root := filepath.Join(control.RunDir(), fmt.Sprintf("mcos%d.view", k.Index))
	return procview.Make(root, procview.Instance{CPUs: k.Config.CPUs, CPUNodes: k.Env.CPUNodes,
		Procs: k.Procs, Alloc: k.Alloc, PGID: k.pgid, Log: k.Kmsg.Printf, LWKType: k.Env.LWKType, Slice: k.ownSlice})
}

// View implements syscalls.Kernel: name is an absolute path.
func (k *OS) View(t *task.Thread, name string) (string, bool) {
	return k.views.Resolve(t, name)
}
