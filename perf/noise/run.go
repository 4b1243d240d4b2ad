package noise

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel"
)

// readyTimeout bounds a worker's start: mcexec booting a process on a
// busy machine takes well under a second; a minute means it is stuck.
const readyTimeout = time.Minute

// Options say what Run measures.
type Options struct {
	Instance int           // LWK instance mcos<N>
	Duration time.Duration // of the loop, on every CPU at once
	Quantum  time.Duration // of work, calibrated on the Linux CPU
	// LinuxCPU is the Linux CPU measured beside the LWK's; -1 picks the
	// first online CPU that is not the instance's.
	LinuxCPU int
	// Mcexec is the mcexec to run the LWK workers with.
	Mcexec string
	// Worker is the command line of a worker for spec (the tool itself
	// in its worker mode).
	Worker func(spec WorkerSpec) []string
}

// CPU is one CPU's row.
type CPU struct {
	CPU    int    `json:"cpu"`    // host CPU number
	Kernel string `json:"kernel"` // "lwk" or "linux"
	Summary
}

// Report is what Run measured.
type Report struct {
	Instance   int           `json:"instance"`
	Quantum    time.Duration `json:"quantum_ns"`
	Iterations int           `json:"iterations"` // Work steps a quantum
	Duration   time.Duration `json:"duration_ns"`
	CPUs       []CPU         `json:"cpus"`
}

// Run measures the instance's LWK CPUs and a Linux CPU side by side.
func Run(o Options) (*Report, error) {
	if o.Duration <= 0 {
		return nil, fmt.Errorf("duration %v: must be positive", o.Duration)
	}
	if o.Quantum <= 0 || o.Quantum > o.Duration {
		return nil, fmt.Errorf("quantum %v: must be positive and at most the duration %v", o.Quantum, o.Duration)
	}
	lwkCPUs, err := instanceCPUs(o.Instance)
	if err != nil {
		return nil, err
	}
	linuxCPU, err := pickLinuxCPU(o.LinuxCPU, lwkCPUs)
	if err != nil {
		return nil, err
	}
	iters, err := calibrateOn(linuxCPU, o.Quantum)
	if err != nil {
		return nil, err
	}
	rep := &Report{Instance: o.Instance, Quantum: o.Quantum, Iterations: iters, Duration: o.Duration}
	var workers []*worker
	defer func() {
		for _, w := range workers {
			w.kill()
		}
	}()
	start := func(kernel string, cpu int, argv []string) error {
		w, err := startWorker(kernel, cpu, argv)
		if err != nil {
			return err
		}
		workers = append(workers, w)
		return nil
	}
	for _, cpu := range lwkCPUs {
		spec := WorkerSpec{CPU: cpu, Iterations: iters, Quantum: o.Quantum, Duration: o.Duration}
		argv := append([]string{o.Mcexec, fmt.Sprint(o.Instance)}, o.Worker(spec)...)
		if err := start("lwk", cpu, argv); err != nil {
			return nil, err
		}
	}
	if err := start("linux", linuxCPU, o.Worker(WorkerSpec{CPU: linuxCPU, Iterations: iters, Quantum: o.Quantum, Duration: o.Duration})); err != nil {
		return nil, err
	}
	for _, w := range workers {
		if err := w.waitReady(); err != nil {
			return nil, err
		}
	}
	for _, w := range workers {
		if err := w.start(); err != nil {
			return nil, err
		}
	}
	for _, w := range workers {
		row, err := w.finish()
		if err != nil {
			return nil, err
		}
		rep.CPUs = append(rep.CPUs, row)
	}
	return rep, nil
}

// instanceCPUs asks instance n's daemon for its host CPUs.
func instanceCPUs(n int) ([]int, error) {
	resp, err := control.Query(n, control.OpStatus)
	if err != nil {
		return nil, fmt.Errorf("instance %d: %w", n, err)
	}
	var st control.Status
	if err := json.Unmarshal(resp.Data, &st); err != nil {
		return nil, fmt.Errorf("instance %d: status: %w", n, err)
	}
	if len(st.CPUs) == 0 {
		return nil, fmt.Errorf("instance %d reports no CPUs", n)
	}
	// Without -O a worker's runtime dies making its second thread.
	var cfg kernel.Config
	if err := control.ReadConfig(n, &cfg); err != nil {
		return nil, fmt.Errorf("instance %d: %w", n, err)
	}
	if !cfg.Oversubscribe {
		return nil, fmt.Errorf("instance %d was booted without -O: the workers are Go programs, whose runtime threads share an LWK CPU (mcreboot -O)", n)
	}
	return st.CPUs, nil
}

// pickLinuxCPU checks the CPU asked (want >= 0) or picks one.
func pickLinuxCPU(want int, lwkCPUs []int) (int, error) {
	online, err := partition.OnlineCPUs()
	if err != nil {
		return 0, err
	}
	if want >= 0 {
		if !slices.Contains(online, want) || slices.Contains(lwkCPUs, want) {
			return 0, fmt.Errorf("CPU %d for Linux: not an online CPU outside the instance's %v", want, lwkCPUs)
		}
		return want, nil
	}
	for _, c := range online {
		if !slices.Contains(lwkCPUs, c) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("no online CPU is left to Linux beside the instance's %v", lwkCPUs)
}

// calibrateOn calibrates on cpu from a thread pinned there for the while.
func calibrateOn(cpu int, quantum time.Duration) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	defer unix.SchedSetaffinity(0, &was)
	if err := pin(cpu); err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	return Calibrate(quantum)
}

// worker is one running worker process.
type worker struct {
	kernel string
	cpu    int
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
}

func startWorker(kernel string, cpu int, argv []string) (*worker, error) {
	w := &worker{kernel: kernel, cpu: cpu, cmd: exec.Command(argv[0], argv[1:]...)}
	// One P: the runtime then starts fewer threads beside the loop's.
	w.cmd.Env = append(w.cmd.Environ(), "GOMAXPROCS=1")
	w.cmd.Stderr = &w.stderr
	var err error
	if w.in, err = w.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.out = bufio.NewReader(out)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", w, err)
	}
	return w, nil
}

func (w *worker) String() string { return fmt.Sprintf("worker on %s CPU %d", w.kernel, w.cpu) }

// fail describes a worker that went wrong, with what it said.
func (w *worker) fail(err error) error {
	w.kill()
	if msg := strings.TrimSpace(w.stderr.String()); msg != "" {
		return fmt.Errorf("%s: %w: %s", w, err, msg)
	}
	return fmt.Errorf("%s: %w", w, err)
}

func (w *worker) waitReady() error {
	said := make(chan error, 1)
	go func() {
		line, err := w.out.ReadString('\n')
		if err == nil && line != readyLine {
			err = fmt.Errorf("said %q, want %q", line, readyLine)
		}
		said <- err
	}()
	select {
	case err := <-said:
		if err != nil {
			return w.fail(fmt.Errorf("start: %w", err))
		}
		return nil
	case <-time.After(readyTimeout):
		return w.fail(fmt.Errorf("not ready after %v", readyTimeout))
	}
}

func (w *worker) start() error {
	_, err := w.in.Write([]byte{'g'})
	if err == nil {
		err = w.in.Close()
	}
	if err != nil {
		return w.fail(fmt.Errorf("start: %w", err))
	}
	return nil
}

func (w *worker) finish() (CPU, error) {
	quanta, rerr := readQuanta(w.out)
	werr := w.cmd.Wait()
	if err := errors.Join(rerr, werr); err != nil {
		return CPU{}, w.fail(err)
	}
	s, err := Summarize(quanta)
	if err != nil {
		return CPU{}, w.fail(err)
	}
	return CPU{CPU: w.cpu, Kernel: w.kernel, Summary: s}, nil
}

// kill ends a worker that is still running (after an error elsewhere).
func (w *worker) kill() {
	if w.cmd.ProcessState == nil && w.cmd.Process != nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
	}
}
