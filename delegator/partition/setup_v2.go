package partition

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// setupV2 isolates with the cgroup v2 cpuset controller: with cpuset
// partitions when the kernel allows them, otherwise with the v1 scheme of
// a Linux group (see the package documentation).
func (i *Isolation) setupV2() (created bool, err error) {
	base := i.base()
	if exists(i.Dir) {
		return false, fmt.Errorf("cpuset group %s already exists (a running instance, or a stale one to release)", i.Dir)
	}
	if err := enableCpuset(i.Root); err != nil {
		return false, err
	}
	if created, err = makeGroup(base); err != nil {
		return created, err
	}
	others, err := instanceCPUs(base)
	if err != nil {
		return created, err
	}
	if err := checkOverlap(i.CPUs, others); err != nil {
		return created, err
	}
	linux := filepath.Join(base, linuxGroup)
	// All instances use the same mode: partition mode needs gomck/ itself
	// to be a partition, which the Linux group of the other mode rules out.
	if !exists(linux) && (len(others) == 0 || isPartitionRoot(base)) {
		perr := i.setupPartition(others)
		if perr == nil {
			i.Partition = true
			i.Note = fmt.Sprintf("cgroup v2 cpuset partition: the kernel keeps all other cgroups off CPUs %s",
				FormatCPUList(i.CPUs))
			return true, nil
		}
		if len(others) > 0 {
			return created, perr
		}
		i.Note = fmt.Sprintf("cgroup v2 cpuset partitions unavailable (%v): ", perr)
	}
	if err := i.setupV2Linux(others); err != nil {
		return true, err
	}
	return true, nil
}

// setupPartition makes gomck/ a partition root holding the CPUs of all
// instances and the instance group an isolated partition inside it. On
// failure it undoes its own changes.
func (i *Isolation) setupPartition(others map[string][]int) (err error) {
	base := i.base()
	baseCPUs := filepath.Join(base, "cpuset.cpus")
	prevCPUs, err := readCgroupFile(baseCPUs)
	if err != nil {
		return fmt.Errorf("read %s: %w", baseCPUs, err)
	}
	wasRoot := isPartitionRoot(base)
	madeDir := false
	defer func() {
		if err == nil {
			return
		}
		// Best-effort undo: the error that matters is the one returned.
		if madeDir {
			_ = setPartition(i.Dir, "member")
			_ = rmdirRetry(i.Dir)
		}
		_ = writeCgroupFile(baseCPUs, prevCPUs)
		if !wasRoot {
			_ = setPartition(base, "member")
		}
	}()

	if err := writeCgroupFile(baseCPUs, FormatCPUList(unionCPUs(others, i.CPUs))); err != nil {
		return err
	}
	if !wasRoot {
		if err := setPartition(base, "root"); err != nil {
			return err
		}
	}
	if err := enableCpuset(base); err != nil {
		return err
	}
	if _, err := makeGroup(i.Dir); err != nil {
		return err
	}
	madeDir = true
	if err := writeCgroupFile(filepath.Join(i.Dir, "cpuset.cpus"), FormatCPUList(i.CPUs)); err != nil {
		return err
	}
	// "isolated" (Linux 6.1) also turns off load balancing on these CPUs,
	// which suits per-CPU pinned LWK threads; "root" is the older kind.
	if err := setPartition(i.Dir, "isolated"); err != nil {
		if err2 := setPartition(i.Dir, "root"); err2 != nil {
			return err2
		}
	}
	if err := moveSelf(i.Dir); err != nil {
		return fmt.Errorf("move self to %s: %w", i.Dir, err)
	}
	return nil
}

// setupV2Linux is the fallback without partitions: a Linux group that gets
// the processes of the root cgroup, beside the instance group.
func (i *Isolation) setupV2Linux(others map[string][]int) error {
	base := i.base()
	share, err := i.linuxShare(unionCPUs(others, i.CPUs))
	if err != nil {
		return err
	}
	if err := enableCpuset(base); err != nil {
		return err
	}
	if _, err := makeGroup(i.Dir); err != nil {
		return err
	}
	if err := writeCgroupFile(filepath.Join(i.Dir, "cpuset.cpus"), FormatCPUList(i.CPUs)); err != nil {
		return err
	}
	linux := filepath.Join(base, linuxGroup)
	if _, err := makeGroup(linux); err != nil {
		return err
	}
	i.LinuxDir = linux
	if err := writeCgroupFile(filepath.Join(linux, "cpuset.cpus"), FormatCPUList(share)); err != nil {
		return err
	}
	if err := moveSelf(i.Dir); err != nil {
		return fmt.Errorf("move self to %s: %w", i.Dir, err)
	}
	i.Moved = takeTasks(i.procsFile(i.Root), i.procsFile(linux))
	i.Note += fmt.Sprintf("cgroup v2 cpuset: moved %d processes of the root cgroup to CPUs %s; processes in other cgroups may still use CPUs %s",
		i.Moved, FormatCPUList(share), FormatCPUList(i.CPUs))
	return nil
}

// enableCpuset makes the cpuset controller available to dir's children.
func enableCpuset(dir string) error {
	path := filepath.Join(dir, "cgroup.subtree_control")
	s, err := readCgroupFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if slices.Contains(strings.Fields(s), "cpuset") {
		return nil
	}
	return writeCgroupFile(path, "+cpuset")
}

// setPartition sets cpuset.cpus.partition and checks that the kernel
// accepted it: an invalid partition reads back as "root invalid (why)".
func setPartition(dir, mode string) error {
	path := filepath.Join(dir, "cpuset.cpus.partition")
	if err := writeCgroupFile(path, mode); err != nil {
		return err
	}
	got, err := readCgroupFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if got != mode {
		return fmt.Errorf("%s: partition %q not valid: %s", dir, mode, got)
	}
	return nil
}

// isPartitionRoot reports whether dir is a valid partition root.
func isPartitionRoot(dir string) bool {
	s, err := readCgroupFile(filepath.Join(dir, "cpuset.cpus.partition"))
	return err == nil && (s == "root" || s == "isolated")
}
