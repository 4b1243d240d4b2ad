package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
)

func topMain(args []string) {
	fs := pflag.NewFlagSet("mcperf top", pflag.ContinueOnError)
	instance := fs.IntP("instance", "i", 0, "OS instance `N` (mcos<N>)")
	delay := fs.Float64P("delay", "d", 3, "`SECS` between refreshes")
	iterations := fs.IntP("iterations", "n", 0, "stop after `N` refreshes (0: until interrupted)")
	batch := fs.BoolP("batch", "b", false, "batch mode: append the frames, do not redraw (the default when stdout is not a terminal)")
	cli.Run(fs, args, func() error {
		if *delay <= 0 || *iterations < 0 {
			return fmt.Errorf("want -d above 0 and -n at least 0, not -d %v -n %d", *delay, *iterations)
		}
		redraw := !*batch && isTerminal(os.Stdout)
		return top(*instance, time.Duration(*delay*float64(time.Second)), *iterations, redraw, os.Stdout)
	})
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// threadRates are one LWK thread's rates over a refresh interval.
type threadRates struct {
	pid, tid, cpu int
	cpuPct        float64 // RunNs of the interval
	local, offl   float64 // calls a second
	offlWaitPct   float64 // OffloadNs of the interval
	faults        float64 // a second
	command       string
}

// top prints the LWK's threads and their rates every delay, from reads
// of the daemon: a frame for each interval between two reads.
func top(instance int, delay time.Duration, iterations int, redraw bool, w io.Writer) error {
	target := cli.Target{Options: inspect.Options{Instance: instance}}
	tg, l, err := target.Open()
	if err != nil {
		return err
	}
	defer tg.Close()
	prev, err := lwk.Read(tg, l, lwk.What{})
	if err != nil {
		return err
	}
	prevAt := time.Now()
	for i := 0; iterations == 0 || i < iterations; i++ {
		time.Sleep(delay)
		cur, err := lwk.Read(tg, l, lwk.What{})
		if err != nil {
			return err
		}
		now := time.Now()
		frame := topFrame(instance, prev, cur, now.Sub(prevAt), now)
		if redraw {
			frame = "\033[H\033[2J" + frame
		} else if i > 0 {
			frame = "\n" + frame
		}
		if _, err := io.WriteString(w, frame); err != nil {
			return err
		}
		prev, prevAt = cur, now
	}
	return nil
}

// topFrame lays out the threads of cur with their rates since prev.
func topFrame(instance int, prev, cur *lwk.Snapshot, interval time.Duration, now time.Time) string {
	before := map[int]lwk.Thread{}
	for _, p := range prev.Procs {
		for _, t := range p.Threads {
			before[t.TID] = t
		}
	}
	secs := interval.Seconds()
	per := func(a, b uint64) float64 {
		if b < a { // a thread read as changing before
			return 0
		}
		return float64(b-a) / secs
	}
	var rows []threadRates
	for _, p := range cur.Procs {
		command := filepath.Base(p.Exe)
		if len(p.Args) > 0 {
			command = filepath.Base(p.Args[0])
		}
		for _, t := range p.Threads {
			if t.Changing {
				continue
			}
			b := before[t.TID] // zero for a thread born in the interval
			rows = append(rows, threadRates{pid: p.PID, tid: t.TID, cpu: t.CPU,
				cpuPct: per(b.RunNs, t.RunNs) / 1e7, local: per(b.LocalCalls, t.LocalCalls),
				offl: per(b.OffloadCalls, t.OffloadCalls), offlWaitPct: per(b.OffloadNs, t.OffloadNs) / 1e7,
				faults: per(b.PageFaults, t.PageFaults), command: command})
		}
	}
	slices.SortFunc(rows, func(a, b threadRates) int {
		if a.cpuPct != b.cpuPct {
			if a.cpuPct > b.cpuPct {
				return -1
			}
			return 1
		}
		return a.tid - b.tid
	})
	var sb strings.Builder
	busy := 0
	for _, c := range cur.CPUs {
		if c.Current != 0 {
			busy++
		}
	}
	fmt.Fprintf(&sb, "mcperf top - %s, instance %d: %d processes, %d threads, %d of %d LWK CPUs running\n\n",
		now.Format("15:04:05"), instance, len(cur.Procs), len(rows), busy, len(cur.CPUs))
	tw := tabwriter.NewWriter(&sb, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "PID\tTID\tCPU\t%%CPU\tLOCAL/s\tOFFLOAD/s\tOFFL%%\tFAULTS/s\t COMMAND\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.0f\t%.0f\t%.1f\t%.0f\t %s\n",
			r.pid, r.tid, r.cpu, r.cpuPct, r.local, r.offl, r.offlWaitPct, r.faults, r.command)
	}
	tw.Flush()
	return sb.String()
}
