package partition

import (
	"path/filepath"
	"strconv"
	"strings"
)

// unlimitedMem is where cgroup v1 "no limit" values start
// (PAGE_COUNTER_MAX pages, about 2^63 bytes rounded down to a page).
const unlimitedMem = int64(1) << 62

// cgroupMemHeadroom returns how many more bytes the caller's memory cgroup
// (and its ancestors) let it charge, and the group that limits it. Partition
// pages are shmem charged to the faulting process's memory cgroup, so a
// request within MemAvailable can still end in a cgroup OOM kill. ok is
// false when no limit applies or none can be read.
func cgroupMemHeadroom() (headroom int64, group string, ok bool) {
	ms, err := readMounts()
	if err != nil {
		return 0, "", false
	}
	type files struct{ root, rel, limit, usage string }
	var cands []files
	if root := v1Mount(ms, "memory"); root != "" {
		if rel, err := selfCgroup("memory"); err == nil {
			cands = append(cands, files{root, rel, "memory.limit_in_bytes", "memory.usage_in_bytes"})
		}
	}
	if root := v2Mount(ms); root != "" {
		if rel, err := selfCgroup(""); err == nil {
			cands = append(cands, files{root, rel, "memory.max", "memory.current"})
		}
	}
	for _, c := range cands {
		// Walk from the own group up to the hierarchy root: any ancestor's
		// limit applies as well.
		for rel := c.rel; ; rel = parentRel(rel) {
			dir := groupPath(c.root, rel)
			lim, lerr := readCgroupFile(filepath.Join(dir, c.limit))
			use, uerr := readCgroupFile(filepath.Join(dir, c.usage))
			if lerr == nil && uerr == nil && lim != "max" {
				l, err1 := strconv.ParseInt(lim, 10, 64)
				u, err2 := strconv.ParseInt(use, 10, 64)
				if err1 == nil && err2 == nil && l < unlimitedMem {
					if h := max(l-u, 0); !ok || h < headroom {
						headroom, group, ok = h, rel, true
					}
				}
			}
			if rel == "/" || rel == "" {
				break
			}
		}
	}
	return headroom, group, ok
}

// parentRel returns the parent of a cgroup path such as "/a/b".
func parentRel(rel string) string {
	i := strings.LastIndex(strings.TrimSuffix(rel, "/"), "/")
	if i <= 0 {
		return "/"
	}
	return rel[:i]
}
