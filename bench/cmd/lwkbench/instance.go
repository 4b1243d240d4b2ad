package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
)

// index is the instance number; the cpuset group is named after it.
const index = 0

// instance is the bench's LWK, booted in a private run directory. It may
// be booted again after a stop, on other CPUs; there is one at a time.
type instance struct {
	bin string

	mu     sync.Mutex
	dir    string // run directory while booted or booting
	pid    int    // daemon
	closed bool   // closed for good: a signal may close it under a running boot
}

// boot runs mcreboot in a fresh run directory. The instance is always
// oversubscribed (-O): without it the LWK refuses more threads than it has
// CPUs, and the process-model benchmarks run two threads (or processes)
// on one CPU. Today only thread creation looks at the flag, so it does not
// change the other figures. With shared, the instance leaves its CPUs to
// Linux too (partition.SharedCPUsEnv): on a 2-CPU machine that is the
// only way to give it two.
func (in *instance) boot(ctx context.Context, cpus []int, mem string, shared bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return errors.New("bench interrupted")
	}
	if in.dir != "" {
		return errors.New("an instance is already booted")
	}
	dir, err := os.MkdirTemp("", "lwkbench-")
	if err != nil {
		return err
	}
	os.Chmod(dir, 0o755)
	in.dir = dir
	// control reads GOMCK_RUNDIR, and the commands inherit it.
	os.Setenv("GOMCK_RUNDIR", dir)
	cmd := exec.CommandContext(ctx, filepath.Join(in.bin, "mcreboot"), "-c", partition.FormatCPUList(cpus), "-m", mem, "-O", "-i", strconv.Itoa(index))
	if shared {
		cmd.Env = append(os.Environ(), partition.SharedCPUsEnv+"=1")
	}
	out, err := cmd.CombinedOutput()
	in.pid = control.DaemonPID(index)
	if err != nil {
		return fmt.Errorf("mcreboot: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if in.pid == 0 {
		return errors.New("mcreboot succeeded but left no daemon pid file")
	}
	return nil
}

// mcexec prepares `mcexec args...` for the instance.
func (in *instance) mcexec(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, filepath.Join(in.bin, "mcexec"), args...)
}

// stop shuts the instance down and makes sure that its daemon, its stubs
// and its cpuset group are gone and its run directory removed, however far
// the boot got. It is idempotent and returns what went wrong on the way.
// The instance may be booted again.
func (in *instance) stop() []error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.shutdown()
}

// close stops the instance for good: later boots fail. Signals and the
// end of the bench close it.
func (in *instance) close() []error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.closed = true
	return in.shutdown()
}

// shutdown is stop with in.mu held.
func (in *instance) shutdown() []error {
	if in.dir == "" {
		return nil
	}
	var errs []error
	if in.pid == 0 {
		in.pid = control.DaemonPID(index)
	}
	var stubs []int
	if in.pid != 0 {
		// Collected first: once the daemon is gone they are init's.
		stubs = control.DaemonChildren(in.pid)
		if err := control.Stop(index, 20*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %v", err))
		}
		syscall.Kill(in.pid, syscall.SIGKILL)
		for _, s := range stubs {
			syscall.Kill(s, syscall.SIGKILL)
		}
		waitGone(append(stubs, in.pid), 5*time.Second)
	}
	// The group is found by name; leave it alone if a daemon of someone
	// else's (started meanwhile) could own it.
	if others := otherDaemons(in.pid); len(others) == 0 {
		if err := partition.ReleaseStale(fmt.Sprintf("mcos%d", index)); err != nil {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, fmt.Errorf("cpuset group mcos%d not released: other LWK daemons %v are running", index, others))
	}
	if err := os.RemoveAll(in.dir); err != nil {
		errs = append(errs, err)
	}
	in.dir, in.pid = "", 0
	return errs
}

// waitGone waits until none of pids is alive or timeout passes. Zombies
// count as gone: whoever inherited them reaps them in its own time.
func waitGone(pids []int, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		alive := false
		for _, p := range pids {
			if _, state, ok := procStat(p); ok && state != 'Z' {
				alive = true
			}
		}
		if !alive {
			return
		}
	}
}
