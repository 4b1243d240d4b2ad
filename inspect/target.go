package inspect

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/inspect/elfinfo"
)

// Options say what to inspect.
type Options struct {
	Instance int    // the OS instance (mcos<N>) whose daemon to read
	Dump     string // a core file of the daemon instead of the live one
	// Kernel is the daemon binary whose DWARF describes the memory:
	// default /proc/<pid>/exe, or for a dump the executable it maps.
	Kernel string
}

// Target is an opened daemon or dump.
type Target struct {
	Mem     Memory
	Kernel  string          // the binary read for DWARF
	BuildID elfinfo.BuildID // the kernel binary's, checked against the daemon's
	PID     int             // the daemon's pid (in the dump: as recorded)
	Bias    uint64          // load bias of a position-independent daemon
	Live    bool
	Source  string // for messages: "mcos0 (pid 123)" or the dump's path
	// Unverified says why the build id could not be checked, "" if it was.
	Unverified string
	close      func() error
}

// Close releases the target.
func (t *Target) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// ErrMismatch is returned when the kernel binary is not the daemon's.
var ErrMismatch = errors.New("build id mismatch")

// Open opens the live daemon of an instance, or a dump.
func Open(o Options) (*Target, error) {
	if o.Dump != "" {
		return openDump(o)
	}
	return openLive(o)
}

// DaemonPID finds instance n's daemon, telling apart "not booted" and
// "gone" (a pid file left by a daemon that died).
func DaemonPID(n int) (int, error) {
	path := control.PidPath(n)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("instance %d is not booted (no %s; set %s if it runs elsewhere)", n, path, control.RunDirEnv)
	} else if errors.Is(err, fs.ErrPermission) {
		return 0, fmt.Errorf("instance %d: %w: %s", n, err, needsOwner)
	} else if err != nil {
		return 0, fmt.Errorf("instance %d: %w", n, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("instance %d: bad pid file %s", n, path)
	}
	if control.DaemonPID(n) == 0 {
		return 0, fmt.Errorf("instance %d: daemon pid %d (from %s): %w", n, pid, path, ErrGone)
	}
	return pid, nil
}

func openLive(o Options) (*Target, error) {
	pid, err := DaemonPID(o.Instance)
	if err != nil {
		return nil, err
	}
	mem, err := OpenLive(pid)
	if err != nil {
		return nil, fmt.Errorf("instance %d: %w", o.Instance, err)
	}
	t := &Target{Mem: mem, PID: pid, Live: true, Source: fmt.Sprintf("mcos%d (daemon pid %d)", o.Instance, pid)}
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	running, err := elfinfo.FileBuildID(exe)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%s: %w: %s (%s)", t.Source, err, needsOwner, owner(pid))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: daemon binary: %w", t.Source, err)
	}
	t.Kernel = o.Kernel
	if t.Kernel == "" {
		t.Kernel = exe
	}
	f, err := elf.Open(t.Kernel)
	if err != nil {
		return nil, fmt.Errorf("kernel binary: %w", err)
	}
	defer f.Close()
	if t.BuildID, _, _, err = elfinfo.ReadBuildID(f); err != nil {
		return nil, fmt.Errorf("kernel binary %s: %w", t.Kernel, err)
	}
	if t.BuildID != running {
		return nil, fmt.Errorf("%w: kernel binary %s is build %s, but %s runs build %s: its DWARF would describe the wrong memory",
			ErrMismatch, t.Kernel, t.BuildID, t.Source, running)
	}
	if f.Type == elf.ET_DYN {
		auxv, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Source, err)
		}
		t.Bias = bias(f, auxv)
	}
	return t, nil
}

// bias is how far a position-independent binary was moved when loaded.
func bias(f *elf.File, auxv []byte) uint64 {
	if entry, ok := elfinfo.Auxv(auxv, f.ByteOrder, elfinfo.AtEntry); ok && f.Type == elf.ET_DYN {
		return entry - f.Entry
	}
	return 0
}

// dumped is what a dump holds of the daemon: a gcore of it (Core) or an
// LWK kernel dump (crash/dumpfile).
type dumped interface {
	Memory
	Executable() string
	AuxVector() []byte
	Close() error
}

// lwkDump is an LWK kernel dump as a dumped.
type lwkDump struct{ *dumpfile.Dump }

func (d lwkDump) AuxVector() []byte { return d.Auxv }

// recorded is a dump that records the daemon's build id.
type recorded interface{ RecordedBuild() string }

// RecordedBuild is the build id the dump's header records.
func (d lwkDump) RecordedBuild() string { return d.Header.BuildID }

func openDump(o Options) (*Target, error) {
	var c dumped
	var pid int
	if dumpfile.Is(o.Dump) {
		d, err := dumpfile.Open(o.Dump)
		if err != nil {
			return nil, err
		}
		c, pid = lwkDump{d}, d.PID
	} else {
		core, err := OpenCore(o.Dump)
		if err != nil {
			return nil, err
		}
		c, pid = core, core.PID
	}
	t := &Target{Mem: c, PID: pid, Source: "dump " + o.Dump, Kernel: o.Kernel, close: c.Close}
	if err := t.checkDump(c); err != nil {
		c.Close()
		return nil, err
	}
	im, err := OpenImage(t.Kernel, t.Bias)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("kernel binary: %w", err)
	}
	t.Mem = Layers{c, im}
	t.close = func() error { im.Close(); return c.Close() }
	return t, nil
}

// checkDump picks the kernel binary for a dump and checks it against the
// build id note in the dump's memory, or failing that against the
// executable the dump says was mapped.
func (t *Target) checkDump(c dumped) error {
	mapped := c.Executable()
	if t.Kernel == "" {
		k, err := t.findKernel(c, mapped)
		if err != nil {
			return err
		}
		t.Kernel = k
	}
	f, err := elf.Open(t.Kernel)
	if err != nil {
		return fmt.Errorf("kernel binary: %w", err)
	}
	defer f.Close()
	id, noteAddr, note, err := elfinfo.ReadBuildID(f)
	if err != nil {
		return fmt.Errorf("kernel binary %s: %w", t.Kernel, err)
	}
	t.BuildID = id
	t.Bias = bias(f, c.AuxVector())
	inDump := make([]byte, len(note))
	if noteAddr != 0 {
		if _, err := c.ReadMemory(inDump, noteAddr+t.Bias); err == nil {
			if !bytes.Equal(inDump, note) {
				return fmt.Errorf("%w: kernel binary %s (build %s) is not the binary of %s (its build id note differs)", ErrMismatch, t.Kernel, id, t.Source)
			}
			return nil
		}
	}
	if mapped == "" || mapped == t.Kernel {
		t.Unverified = "the dump holds no build id note and names no other executable"
		return nil
	}
	other, err := elfinfo.FileBuildID(mapped)
	if err != nil {
		t.Unverified = fmt.Sprintf("the dump's executable %s cannot be read (%v)", mapped, err)
		return nil
	}
	if other != id {
		return fmt.Errorf("%w: kernel binary %s is build %s, but %s was of %s, build %s", ErrMismatch, t.Kernel, id, t.Source, mapped, other)
	}
	return nil
}

// findKernel picks the kernel binary of a dump given none: of the
// executable the dump names and the mckernel beside this command, the one
// of the build the dump records (as crash wants the vmlinux of the dumped
// kernel), so that a dump opens on another machine with the same build.
func (t *Target) findKernel(c dumped, mapped string) (string, error) {
	var want string
	if r, ok := c.(recorded); ok {
		want = r.RecordedBuild()
	}
	var candidates []string
	if mapped != "" {
		candidates = append(candidates, mapped)
	}
	if self, err := os.Executable(); err == nil {
		if beside := filepath.Join(filepath.Dir(self), "mckernel"); beside != mapped {
			candidates = append(candidates, beside)
		}
	}
	if want == "" {
		if mapped == "" {
			return "", fmt.Errorf("%s: the dump names no executable: give --kernel", t.Source)
		}
		return mapped, nil
	}
	var tried []string
	for _, k := range candidates {
		id, err := elfinfo.FileBuildID(k)
		switch {
		case err != nil:
			tried = append(tried, fmt.Sprintf("%s: %v", k, err))
		case string(id) != want:
			tried = append(tried, fmt.Sprintf("%s is build %s", k, id))
		default:
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: %s is of kernel build %s, and no binary of that build was found (%s): give --kernel PATH",
		ErrMismatch, t.Source, want, strings.Join(tried, "; "))
}

// AuxVector is the dumped process's auxiliary vector (NT_AUXV).
func (c *Core) AuxVector() []byte { return c.Auxv }

// Executable returns the path of the file mapped at the entry point, or
// the first mapped file.
func (c *Core) Executable() string {
	entry, ok := elfinfo.Auxv(c.Auxv, c.f.ByteOrder, elfinfo.AtEntry)
	for _, m := range c.Files {
		if ok && m.Start <= entry && entry < m.End {
			return m.Path
		}
	}
	if len(c.Files) > 0 {
		return c.Files[0].Path
	}
	return ""
}

// needsOwner says who may read a daemon, to whoever may not.
const needsOwner = "reading a daemon's memory takes root or the daemon's own user"

// owner names the user that process pid runs as.
func owner(pid int) string {
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d", pid), &st); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("uid %d", st.Uid)
}
