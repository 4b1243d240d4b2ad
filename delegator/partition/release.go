package partition

import (
	"errors"
	"fmt"
	"path/filepath"
)

// release undoes an isolation; the caller holds the tree lock. It works
// from what is in the cgroup tree, not from i's fields, so that it also
// cleans up after a crashed daemon or a half-done Isolate.
func (i *Isolation) release() error {
	base := i.base()
	var errs []error
	if exists(i.Dir) {
		if i.selfIn(i.Dir) {
			if err := i.moveSelfBack(); err != nil {
				errs = append(errs, err)
			}
		}
		drainGroup(i.procsFile(i.Dir), i.procsFile(i.Root))
		if i.Version == 2 && isPartitionRoot(i.Dir) {
			// Hand the CPUs back before removal, so a failed rmdir does not
			// keep them away from Linux.
			if err := setPartition(i.Dir, "member"); err != nil {
				errs = append(errs, err)
			}
		}
		if err := rmdirRetry(i.Dir); err != nil {
			// Continue: the leftover group still counts as an instance
			// below, so the Linux share stays consistent with it.
			errs = append(errs, err)
		}
	}

	others, err := instanceCPUs(base)
	if isNotExist(err) {
		return errors.Join(errs...)
	}
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	linux := filepath.Join(base, linuxGroup)
	if len(others) > 0 {
		if exists(linux) {
			share, err := i.linuxShare(unionCPUs(others, nil))
			if err == nil {
				err = writeCgroupFile(filepath.Join(linux, "cpuset.cpus"), FormatCPUList(share))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("widen Linux share: %w", err))
			}
		}
		if i.Version == 2 && isPartitionRoot(base) {
			cpus := FormatCPUList(unionCPUs(others, nil))
			if err := writeCgroupFile(filepath.Join(base, "cpuset.cpus"), cpus); err != nil {
				errs = append(errs, fmt.Errorf("shrink %s: %w", base, err))
			}
		}
		return errors.Join(errs...)
	}

	// No instance left: everything goes back to the root.
	if exists(linux) {
		drainGroup(i.procsFile(linux), i.procsFile(i.Root))
		if err := rmdirRetry(linux); err != nil {
			errs = append(errs, err)
		}
	}
	if i.Version == 2 && isPartitionRoot(base) {
		if err := setPartition(base, "member"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := rmdirRetry(base); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// selfIn reports whether the calling process is in group dir.
func (i *Isolation) selfIn(dir string) bool {
	rel, err := selfCgroup(i.controller())
	return err == nil && groupPath(i.Root, rel) == dir
}

// moveSelfBack returns the calling process to the group it came from, or
// to the root when that group is gone or no longer accepts processes (in
// v2 a group that gained children with controllers cannot hold any).
func (i *Isolation) moveSelfBack() error {
	if i.origin != "" && i.origin != i.Dir && exists(i.origin) {
		if err := moveSelf(i.origin); err == nil {
			return nil
		}
	}
	if err := moveSelf(i.Root); err != nil {
		return fmt.Errorf("move self back to %s: %w", i.Root, err)
	}
	return nil
}
