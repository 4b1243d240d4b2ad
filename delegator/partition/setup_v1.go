package partition

import (
	"fmt"
	"path/filepath"
)

// setupV1 isolates with a cgroup v1 cpuset hierarchy. created reports
// whether anything was created that the caller must undo on error.
func (i *Isolation) setupV1() (created bool, err error) {
	base := i.base()
	rootCPUs, err := readCgroupFile(filepath.Join(i.Root, "cpuset.cpus"))
	if err != nil {
		return false, fmt.Errorf("read root cpuset: %w", err)
	}
	rootMems, err := readCgroupFile(filepath.Join(i.Root, "cpuset.mems"))
	if err != nil {
		return false, fmt.Errorf("read root cpuset: %w", err)
	}
	if exists(i.Dir) {
		return false, fmt.Errorf("cpuset group %s already exists (a running instance, or a stale one to release)", i.Dir)
	}
	if created, err = makeGroup(base); err != nil {
		return created, err
	}
	// v1 groups start with no CPUs and no memory nodes and refuse tasks
	// until both are set; children must stay within their parent, so the
	// parent spans everything the root has.
	if err := writeCpuset(base, rootCPUs, rootMems); err != nil {
		return created, err
	}
	others, err := instanceCPUs(base)
	if err != nil {
		return created, err
	}
	if err := checkOverlap(i.CPUs, others); err != nil {
		return created, err
	}
	share, err := i.linuxShare(unionCPUs(others, i.CPUs))
	if err != nil {
		return created, err
	}
	if _, err := makeGroup(i.Dir); err != nil {
		return created, err
	}
	created = true
	if err := writeCpuset(i.Dir, FormatCPUList(i.CPUs), rootMems); err != nil {
		return created, err
	}
	linux := filepath.Join(base, linuxGroup)
	if _, err := makeGroup(linux); err != nil {
		return created, err
	}
	i.LinuxDir = linux
	if err := writeCpuset(linux, FormatCPUList(share), rootMems); err != nil {
		return created, err
	}
	// Self first, so that the sweep of the root below cannot catch the
	// daemon's own threads and park them in the Linux group.
	if err := moveSelf(i.Dir); err != nil {
		return created, fmt.Errorf("move self to %s: %w", i.Dir, err)
	}
	i.Moved = takeTasks(i.procsFile(i.Root), i.procsFile(linux))
	i.Note = fmt.Sprintf("cgroup v1 cpuset: moved %d tasks of the root cpuset to CPUs %s",
		i.Moved, FormatCPUList(share))
	return created, nil
}

// writeCpuset sets a v1 group's CPUs and memory nodes.
func writeCpuset(dir, cpus, mems string) error {
	if err := writeCgroupFile(filepath.Join(dir, "cpuset.mems"), mems); err != nil {
		return err
	}
	return writeCgroupFile(filepath.Join(dir, "cpuset.cpus"), cpus)
}
