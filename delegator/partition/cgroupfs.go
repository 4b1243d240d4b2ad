package partition

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// mount is one line of /proc/self/mounts.
type mount struct {
	dir    string
	fstype string
	opts   []string
}

func readMounts() ([]mount, error) {
	f, err := os.Open(procSelfMounts)
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var ms []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		ms = append(ms, mount{dir: unescapeMount(f[1]), fstype: f[2], opts: strings.Split(f[3], ",")})
	}
	return ms, sc.Err()
}

// unescapeMount undoes the octal escapes (\040 for space) of mount paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// v1Mount returns the mount point of the cgroup v1 hierarchy that carries
// controller, or "".
func v1Mount(ms []mount, controller string) string {
	for _, m := range ms {
		if m.fstype == "cgroup" && slices.Contains(m.opts, controller) {
			return m.dir
		}
	}
	return ""
}

// v2Mount returns the mount point of the cgroup2 hierarchy, or "".
func v2Mount(ms []mount) string {
	for _, m := range ms {
		if m.fstype == "cgroup2" {
			return m.dir
		}
	}
	return ""
}

// selfCgroup returns the calling process's cgroup path (relative to the
// hierarchy root, starting with "/") in the v1 hierarchy of controller, or
// in the v2 hierarchy when controller is "".
func selfCgroup(controller string) (string, error) {
	b, err := os.ReadFile(procSelfCgroup)
	if err != nil {
		return "", fmt.Errorf("own cgroup: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if controller == "" && id == "0" && ctrls == "" {
			return path, nil
		}
		if controller != "" && slices.Contains(strings.Split(ctrls, ","), controller) {
			return path, nil
		}
	}
	return "", fmt.Errorf("own cgroup: no %q hierarchy in %s", controller, procSelfCgroup)
}

// readCgroupFile returns a control file's content without surrounding
// white space.
func readCgroupFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// writeCgroupFile writes val with a single write(2), which is what cgroup
// control files expect (one value, or one task id, per write). It never
// creates the file: a missing control file means an unsupported feature.
// O_TRUNC is what a shell's ">" does too; cgroupfs ignores it.
func writeCgroupFile(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(val)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write %q to %s: %w", val, path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("write %q to %s: %w", val, path, cerr)
	}
	return nil
}

// readIDs reads a "tasks" or "cgroup.procs" file: one id per line.
func readIDs(path string) ([]int, error) {
	s, err := readCgroupFile(path)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: bad id %q", path, f)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Group directory operations. On cgroupfs mkdir creates the control files
// and rmdir removes a group although it "contains" them; tests replace
// these to emulate that on a plain directory.
var (
	mkdirGroup = func(dir string) error { return os.Mkdir(dir, 0o755) }
	rmdirGroup = func(dir string) error { return os.Remove(dir) }
)

// subdirs lists the child groups of dir.
func subdirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// groupPath joins a cgroup path as found in /proc/self/cgroup to a mount.
func groupPath(root, rel string) string {
	return filepath.Join(root, filepath.FromSlash(rel))
}
