package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf/stat"
)

// statOptions are mcperf stat's flags.
type statOptions struct {
	events   string
	sep      string
	output   string
	repeat   int
	instance int
	all      bool
	interval int // ms
}

func statMain(args []string) {
	fs := pflag.NewFlagSet("mcperf stat", pflag.ContinueOnError)
	fs.SetInterspersed(false) // the command's own flags are its
	var o statOptions
	fs.StringVarP(&o.events, "event", "e", strings.Join(stat.DefaultEvents, ","), "`EVENTS` to count, comma-separated (mcperf list names them)")
	fs.StringVarP(&o.sep, "field-separator", "x", "", "print CSV with `SEP` between fields, as perf stat -x")
	fs.StringVarP(&o.output, "output", "o", "", "write the counts to `FILE` instead of stderr")
	fs.IntVarP(&o.repeat, "repeat", "r", 1, "run the command `N` times and print the means and their variation")
	fs.IntVarP(&o.instance, "instance", "i", 0, "OS instance `N` (mcos<N>)")
	fs.BoolVarP(&o.all, "all-cpus", "a", false, "count the whole instance: every LWK CPU and thread")
	fs.IntVarP(&o.interval, "interval-print", "I", 0, "with -a, print the counts every `MS` milliseconds")
	cli.Run(fs, args, func() error {
		events, err := stat.Parse(o.events)
		var unknown stat.ErrUnknown
		if errors.As(err, &unknown) {
			// perf's message and status (its usage error, 129).
			fmt.Fprintf(os.Stderr, "%v\n\n Usage: mcperf stat [<options>] [<command>]\n\n    -e, --event <event>   event selector. use 'mcperf list' to list available events\n", err)
			os.Exit(129)
		}
		if err != nil {
			return err
		}
		out := io.Writer(os.Stderr)
		if o.output != "" {
			f, err := os.Create(o.output)
			if err != nil {
				return err
			}
			defer f.Close()
			out = f
		}
		if o.all {
			return statInstance(o, events, fs.Args(), out)
		}
		if o.interval != 0 {
			return fmt.Errorf("-I needs -a: a command's counts come at its end")
		}
		code, err := statCommand(o, events, fs.Args(), out)
		if err == nil && code != 0 {
			os.Exit(code) // perf stat ends as its command did
		}
		return err
	})
}

// statCommand runs argv under mcexec o.repeat times, each with a
// profile in JSON that the kernel makes at the process's end, and
// prints the sums of its processes; it returns the last run's exit
// status.
func statCommand(o statOptions, events []stat.Event, argv []string, out io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, fmt.Errorf("no command to run: mcperf stat [-e EVENTS] -- PROG [ARGS]")
	}
	if o.repeat < 1 {
		return 0, fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	mcexec, err := selfMcexec()
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "mcperf-stat-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	profile := dir + "/profile.json"
	// A forked child's mcexec appends its process's record when that
	// process ends, perhaps after the first mcexec exits: as their
	// reaper, mcperf waits for them (wait4 -1) before it reads.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	runs := stat.Runs{Target: strings.Join(argv, " "), Events: events}
	code := 0
	for range o.repeat {
		cmd := exec.Command(mcexec, append([]string{"--profile=json:" + profile, strconv.Itoa(o.instance)}, argv...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return 0, fmt.Errorf("running %s: %w", argv[0], err)
		}
		code = exitStatus(cmd.ProcessState)
		reapOrphans(orphanWait)
		f, err := os.Open(profile)
		if err != nil {
			return code, fmt.Errorf("%s left no profile (status %d): %w", argv[0], code, err)
		}
		s, err := stat.ReadProfiles(f)
		f.Close()
		if err != nil {
			return code, fmt.Errorf("%s (status %d): %w", argv[0], code, err)
		}
		runs.Samples = append(runs.Samples, s)
		runs.Elapsed = append(runs.Elapsed, elapsed)
	}
	return code, printRuns(out, runs, o.sep)
}

// orphanWait bounds the wait for orphaned child proxies (a daemon the
// program left behind is not waited for); orphanPoll is how often they
// are looked for.
const (
	orphanWait = 2 * time.Second
	orphanPoll = time.Millisecond
)

// reapOrphans reaps the processes reparented to mcperf until there are
// none, or for at most limit.
func reapOrphans(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.ECHILD) || time.Now().After(deadline):
			return
		case pid > 0:
			continue // another may be there already
		}
		time.Sleep(orphanPoll)
	}
}

// exitStatus is a shell's status for a process: its code, or 128 and the
// signal that killed it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func printRuns(out io.Writer, runs stat.Runs, sep string) error {
	if sep != "" {
		return stat.PrintCSV(out, runs, sep)
	}
	return stat.PrintTable(out, runs)
}

// statInstance counts the whole instance from two reads of its daemon
// (and one every -I interval between) while args runs: a duration in
// seconds to wait, a command run under mcexec, or nothing (until
// interrupted), as perf stat -a takes them.
func statInstance(o statOptions, events []stat.Event, args []string, out io.Writer) error {
	if o.interval < 0 {
		return fmt.Errorf("-I %d: want a positive interval", o.interval)
	}
	target := cli.Target{Options: inspect.Options{Instance: o.instance}}
	tg, l, err := target.Open()
	if err != nil {
		return err
	}
	defer tg.Close()
	totals := func() (stat.Sample, error) {
		s, err := lwk.Read(tg, l, lwk.What{Syscalls: true})
		if err != nil {
			return stat.Sample{}, err
		}
		return stat.InstanceTotals(s), nil
	}
	start := time.Now()
	first, err := totals()
	if err != nil {
		return err
	}
	done, err := startWorkload(o.instance, args)
	if err != nil {
		return err
	}
	tick := make(<-chan time.Time)
	if o.interval > 0 {
		t := time.NewTicker(time.Duration(o.interval) * time.Millisecond)
		defer t.Stop()
		tick = t.C
		if o.sep == "" {
			io.WriteString(out, stat.IntervalHeader)
		}
	}
	prev, prevAt := first, start
	for {
		var end bool
		select {
		case <-tick:
		case <-done:
			end = true
		}
		now := time.Now()
		cur, err := totals()
		if err != nil {
			return err
		}
		if o.interval > 0 {
			iv := stat.Runs{Events: events, Samples: []stat.Sample{stat.Delta(prev, cur, now.Sub(prevAt))},
				Elapsed: []time.Duration{now.Sub(prevAt)}}
			if err := stat.PrintInterval(out, iv, now.Sub(start), o.sep); err != nil {
				return err
			}
			prev, prevAt = cur, now
		}
		if end {
			if o.interval > 0 {
				return nil // perf stat -I prints no total
			}
			return printRuns(out, stat.Runs{Events: events, Samples: []stat.Sample{stat.Delta(first, cur, now.Sub(start))},
				Elapsed: []time.Duration{now.Sub(start)}}, o.sep)
		}
	}
}

// startWorkload starts what mcperf stat -a counts during; done closes
// when it is over.
func startWorkload(instance int, args []string) (done <-chan struct{}, err error) {
	ch := make(chan struct{})
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	switch {
	case len(args) == 0:
		go func() { <-interrupt; close(ch) }()
	case len(args) == 1 && isSeconds(args[0]):
		secs, _ := strconv.ParseFloat(args[0], 64)
		go func() {
			select {
			case <-time.After(time.Duration(secs * float64(time.Second))):
			case <-interrupt:
			}
			close(ch)
		}()
	default:
		mcexec, err := selfMcexec()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(mcexec, append([]string{strconv.Itoa(instance)}, args...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("running %s: %w", args[0], err)
		}
		go func() { cmd.Wait(); close(ch) }()
	}
	return ch, nil
}

// isSeconds says whether a is a duration in seconds (sleep's argument).
func isSeconds(a string) bool {
	f, err := strconv.ParseFloat(a, 64)
	return err == nil && f >= 0
}

// selfMcexec is the mcexec beside this mcperf.
func selfMcexec() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return mcexecPath(self)
}
