// Command mcreboot boots an LWK instance, as McKernel's mcreboot.sh:
//
//	mcreboot -c CPULIST -m SIZE[@NODE][,SIZE@NODE...] [-O] [-T 0|1] [-d LEVEL] [-k 0|1] [-i INDEX]
//
// It is silent on success. If the instance is already booted it is shut
// down first (a reboot). -i (instance number, default 0) is gomck's, so
// several instances can coexist. It starts the instance's monitor,
// ihkmond, which dumps it at LEVEL if it hangs for $GOMCK_HANG_TIMEOUT
// (a Go duration, 3s by default) or panics; the monitor logs to
// ihkmond<INDEX>.log in the run directory.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel"
)

func main() {
	var (
		cpus  = flag.String("c", "", "CPUs to reserve, e.g. 1 or 2-3")
		mem   = flag.String("m", "", "memory to reserve, SIZE[@NODE][,SIZE@NODE...]")
		over  = flag.Bool("O", false, "allow oversubscription (more threads than CPUs)")
		share = flag.Int("T", 1, "time sharing: 1 preempts a thread after a time slice when others wait")
		level = flag.Int("d", 24, "dump level")
		kmsg  = flag.Int("k", 1, "kernel message buffer: 1 keep, 0 discard")
		index = flag.Int("i", 0, "OS instance number")
	)
	flag.Parse()
	if err := boot(*cpus, *mem, *over, *share, *level, *kmsg, *index); err != nil {
		fmt.Fprintln(os.Stderr, "mcreboot:", err)
		os.Exit(1)
	}
}

func boot(cpus, mem string, over bool, share, level, kmsg, index int) error {
	if cpus == "" || mem == "" {
		return fmt.Errorf("usage: mcreboot -c CPULIST -m SIZE[@NODE][,...] [-O] [-T 0|1] [-d LEVEL] [-k 0|1] [-i INDEX]")
	}
	cpuList, err := partition.ParseCPUList(cpus)
	if err != nil {
		return err
	}
	if _, err := partition.ParseMemSpec(mem); err != nil {
		return err
	}
	if err := partition.ValidateCPUs(cpuList); err != nil {
		return err
	}
	for _, n := range control.Booted() {
		if n == index || control.DaemonPID(n) == 0 {
			continue
		}
		var other kernel.Config
		if control.ReadConfig(n, &other) == nil {
			for _, a := range other.CPUs {
				for _, b := range cpuList {
					if a == b {
						return fmt.Errorf("CPU %d already belongs to instance %d", a, n)
					}
				}
			}
		}
	}
	if _, err := os.Stat(control.PidPath(index)); err == nil {
		if err := control.Stop(index, 10*time.Second); err != nil {
			return fmt.Errorf("reboot: %w", err)
		}
	}
	if err := os.MkdirAll(control.RunDir(), 0o755); err != nil {
		return fmt.Errorf("run directory: %w (run as root, or set GOMCK_RUNDIR)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	daemon := filepath.Join(filepath.Dir(self), "mckernel")
	args := []string{"-index", strconv.Itoa(index), "-cpus", cpus, "-mem", mem,
		"-d", strconv.Itoa(level), "-k", strconv.Itoa(kmsg), "-T", strconv.Itoa(share)}
	if over {
		args = append(args, "-O")
	}
	if uid, gid := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID"); uid != "" && gid != "" {
		args = append(args, "-owner", uid+":"+gid)
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(control.LogPath(index), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(daemon, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{wr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", daemon, err)
	}
	wr.Close()
	logf.Close()
	line, _ := bufio.NewReader(rd).ReadString('\n')
	line = strings.TrimSpace(line)
	if line != "ok" {
		cmd.Wait()
		if line == "" {
			line = "the LWK daemon died while booting"
		}
		return fmt.Errorf("boot failed: %s", line)
	}
	cmd.Process.Release()
	return startMonitor(filepath.Dir(self), index, level)
}

// startMonitor starts ihkmond for instance index and waits until it
// watches.
func startMonitor(bin string, index, level int) error {
	args := []string{"-i", strconv.Itoa(index), "-d", strconv.Itoa(level)}
	if t := os.Getenv("GOMCK_HANG_TIMEOUT"); t != "" {
		args = append(args, "-t", t)
	}
	logf, err := os.OpenFile(control.MonitorLogPath(index), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "ihkmond"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the monitor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			return fmt.Errorf("the monitor ended at once (%v); see %s", err, logf.Name())
		case <-time.After(10 * time.Millisecond):
		}
		if m, err := control.ReadMonitor(index); err == nil && m.PID == cmd.Process.Pid {
			return nil
		}
	}
	return fmt.Errorf("the monitor did not start watching within 5s; see %s", logf.Name())
}
