package partition

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	baseGroup  = "gomck" // parent of all gomck groups in the cpuset hierarchy
	linuxGroup = "linux" // the Linux tasks moved off the LWK CPUs
)

// Isolation is the cpuset state of one isolated instance: the LWK daemon
// runs in Dir on exactly CPUs, and other Linux tasks are kept off them.
// Its fields are for inspection and logging; see the package documentation
// for the layout and its limits.
type Isolation struct {
	Version   int    // cgroup version of the cpuset hierarchy used: 1 or 2
	Root      string // mount point of that hierarchy
	Dir       string // the instance group, Root/gomck/<instance>
	LinuxDir  string // Root/gomck/linux holding the moved Linux tasks; "" in partition mode
	Instance  string
	CPUs      []int
	Partition bool   // v2 only: Dir is a cpuset partition, so the kernel keeps every other cgroup off CPUs
	Moved     int    // Linux tasks moved into LinuxDir (v1: threads, v2: processes)
	Note      string // how the CPUs were isolated, for the caller's log

	origin   string // cgroup directory the calling process came from
	mu       sync.Mutex
	released bool
}

// hierarchy is the cgroup hierarchy that carries the cpuset controller.
type hierarchy struct {
	version int
	root    string
}

// findCpuset prefers a v1 cpuset hierarchy: on hybrid systems the cpuset
// controller is bound there and absent from the v2 tree.
func findCpuset() (hierarchy, bool, error) {
	ms, err := readMounts()
	if err != nil {
		return hierarchy{}, false, err
	}
	if r := v1Mount(ms, "cpuset"); r != "" && exists(filepath.Join(r, "cpuset.cpus")) {
		return hierarchy{1, r}, true, nil
	}
	if r := v2Mount(ms); r != "" {
		ctrls, err := readCgroupFile(filepath.Join(r, "cgroup.controllers"))
		if err == nil && slices.Contains(strings.Fields(ctrls), "cpuset") {
			return hierarchy{2, r}, true, nil
		}
	}
	return hierarchy{}, false, nil
}

// checkInstanceName keeps instance names usable as a single cgroup
// directory name that cannot collide with control files or the linux group.
func checkInstanceName(name string) error {
	if name == "" || name == linuxGroup || name[0] == '.' ||
		strings.HasPrefix(name, "cgroup.") || strings.HasPrefix(name, "cpuset.") {
		return fmt.Errorf("bad instance name %q", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("bad instance name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// Isolate moves other Linux tasks off lwkCPUs and the calling process (all
// its threads) onto them, using the cpuset hierarchy. It returns nil, nil
// when not running as root, when no cpuset controller is available or
// with SharedCPUs: the LWK then shares its CPUs with Linux, which the
// caller should log.
func Isolate(instance string, lwkCPUs []int) (*Isolation, error) {
	if !isRoot() || SharedCPUs() {
		return nil, nil
	}
	if err := checkInstanceName(instance); err != nil {
		return nil, fmt.Errorf("isolate: %w", err)
	}
	cpus := slices.Clone(lwkCPUs)
	slices.Sort(cpus)
	cpus = slices.Compact(cpus)
	if err := ValidateCPUs(cpus); err != nil {
		return nil, fmt.Errorf("isolate %s: %w", instance, err)
	}
	h, ok, err := findCpuset()
	if err != nil {
		return nil, fmt.Errorf("isolate %s: %w", instance, err)
	}
	if !ok {
		return nil, nil
	}
	unlock, err := lockTree(h.root)
	if err != nil {
		return nil, fmt.Errorf("isolate %s: %w", instance, err)
	}
	defer unlock()

	i := &Isolation{
		Version:  h.version,
		Root:     h.root,
		Dir:      filepath.Join(h.root, baseGroup, instance),
		Instance: instance,
		CPUs:     cpus,
	}
	if rel, err := selfCgroup(i.controller()); err == nil {
		i.origin = groupPath(h.root, rel)
	}
	var created bool
	if h.version == 1 {
		created, err = i.setupV1()
	} else {
		created, err = i.setupV2()
	}
	if err != nil {
		// Undo only what this call created: an existing group of the same
		// name belongs to a live or stale instance, not to us.
		if created {
			if rerr := i.release(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("undo: %w", rerr))
			}
		}
		return nil, fmt.Errorf("isolate CPUs %s for %s: %w", FormatCPUList(cpus), instance, err)
	}
	return i, nil
}

// Release gives the CPUs back to Linux: it moves the calling process back
// to the cgroup it came from, empties and removes the instance group, and
// either widens the Linux share (other instances remain) or moves the
// Linux tasks back to the root and removes gomck/ altogether. It is
// idempotent, and a nil Isolation releases nothing.
func (i *Isolation) Release() error {
	if i == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.released {
		return nil
	}
	unlock, err := lockTree(i.Root)
	if err != nil {
		return fmt.Errorf("release %s: %w", i.Instance, err)
	}
	defer unlock()
	if err := i.release(); err != nil {
		return fmt.Errorf("release %s: %w", i.Instance, err)
	}
	i.released = true
	return nil
}

// ReleaseStale removes the cpuset leftovers of an instance whose daemon
// died, exactly as its Release would have. It must not be called for an
// instance whose daemon is still running. Like Isolate, it does nothing
// when not root or without a cpuset hierarchy.
func ReleaseStale(instance string) error {
	if !isRoot() {
		return nil
	}
	if err := checkInstanceName(instance); err != nil {
		return fmt.Errorf("release stale: %w", err)
	}
	h, ok, err := findCpuset()
	if err != nil || !ok {
		return err
	}
	unlock, err := lockTree(h.root)
	if err != nil {
		return fmt.Errorf("release stale %s: %w", instance, err)
	}
	defer unlock()
	i := &Isolation{
		Version:  h.version,
		Root:     h.root,
		Dir:      filepath.Join(h.root, baseGroup, instance),
		Instance: instance,
	}
	if !exists(i.base()) {
		return nil
	}
	if err := i.release(); err != nil {
		return fmt.Errorf("release stale %s: %w", instance, err)
	}
	return nil
}

func (i *Isolation) base() string { return filepath.Join(i.Root, baseGroup) }

// controller names the hierarchy in /proc/self/cgroup: "cpuset" for v1,
// "" for the unified v2 line.
func (i *Isolation) controller() string {
	if i.Version == 1 {
		return "cpuset"
	}
	return ""
}

// procsFile is the file tasks are moved through one by one: threads in v1
// ("tasks", so that kernel threads can be skipped individually), processes
// in v2, where all threads of a process share one (domain) cgroup.
func (i *Isolation) procsFile(dir string) string {
	if i.Version == 1 {
		return filepath.Join(dir, "tasks")
	}
	return filepath.Join(dir, "cgroup.procs")
}

// lockTree serialises changes to the gomck tree between daemons with an
// flock on the hierarchy root, so that two instances starting at once do
// not compute the Linux share from each other's half-made groups.
func lockTree(root string) (func(), error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	return func() {
		unix.Flock(fd, unix.LOCK_UN)
		unix.Close(fd)
	}, nil
}

// makeGroup creates a cgroup; created is false if it already existed.
func makeGroup(dir string) (created bool, err error) {
	err = mkdirGroup(dir)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	return true, nil
}

// instanceCPUs returns the CPUs of every instance group under base.
func instanceCPUs(base string) (map[string][]int, error) {
	names, err := subdirs(base)
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, n := range names {
		if n == linuxGroup {
			continue
		}
		s, err := readCgroupFile(filepath.Join(base, n, "cpuset.cpus"))
		if err != nil {
			return nil, fmt.Errorf("CPUs of instance %s: %w", n, err)
		}
		var cpus []int
		if s != "" {
			if cpus, err = ParseCPUList(s); err != nil {
				return nil, fmt.Errorf("CPUs of instance %s: %w", n, err)
			}
		}
		out[n] = cpus
	}
	return out, nil
}

// unionCPUs merges the CPUs of all instances and extra.
func unionCPUs(insts map[string][]int, extra []int) []int {
	all := slices.Clone(extra)
	for _, c := range insts {
		all = append(all, c...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// checkOverlap refuses CPUs already owned by another instance.
func checkOverlap(cpus []int, others map[string][]int) error {
	for name, oc := range others {
		if common := cpuSetIntersect(cpus, oc); len(common) > 0 {
			return fmt.Errorf("CPUs %s already belong to instance %s", FormatCPUList(common), name)
		}
	}
	return nil
}

// linuxShare is the Linux group's CPUs: online CPUs the root group may use,
// minus every instance's CPUs.
func (i *Isolation) linuxShare(instCPUs []int) ([]int, error) {
	online, err := OnlineCPUs()
	if err != nil {
		return nil, err
	}
	file := "cpuset.cpus"
	if i.Version == 2 {
		file = "cpuset.cpus.effective" // the root's cpuset.cpus is not meaningful in v2
	}
	s, err := readCgroupFile(filepath.Join(i.Root, file))
	if err != nil {
		return nil, fmt.Errorf("CPUs of the root cpuset: %w", err)
	}
	allowed, err := ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("CPUs of the root cpuset: %w", err)
	}
	share := cpuSetMinus(cpuSetIntersect(online, allowed), instCPUs)
	if len(share) == 0 {
		return nil, fmt.Errorf("no CPU left for Linux (online: %s, instances: %s)",
			FormatCPUList(online), FormatCPUList(instCPUs))
	}
	return share, nil
}

// moveSelf moves the calling process, all its threads at once, into dir.
// Writing the pid to cgroup.procs (rather than every tid of /proc/self/task
// to "tasks") is atomic against the Go runtime creating threads meanwhile.
func moveSelf(dir string) error {
	return writeCgroupFile(filepath.Join(dir, "cgroup.procs"), fmt.Sprint(os.Getpid()))
}

// ShareCPUs moves the calling daemon into the gomck group itself, which
// spans every CPU (and which another instance's sweep of the root cpuset
// does not touch), so that its housekeeping threads (Go's sysmon, GC workers, the
// control socket) can run on Linux CPUs while its per-CPU threads and its
// stubs pin themselves to the LWK CPUs; Linux tasks stay in LinuxDir, off
// the LWK CPUs. Only cgroup v1 (or v2 without partitions) allows this: a v2
// partition keeps the root off its CPUs, so there the daemon stays in Dir.
func (i *Isolation) ShareCPUs() error {
	if i == nil || i.Partition {
		return nil
	}
	return moveSelf(i.base())
}
