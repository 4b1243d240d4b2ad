// Command mcperf is the performance analyst's tool for an LWK instance,
// on the Linux side:
//
//	mcperf list [--json]
//	mcperf stat [-i N] [-e EV,...] [-x SEP] [-o FILE] [-r N] [--] PROG [ARGS]
//	mcperf stat -a [-i N] [-I MS] [-e EV,...] [-x SEP] [-o FILE] [SECS | PROG [ARGS]]
//	mcperf top [-i N] [-d SECS] [-n N] [-b]
//	mcperf noise [-i N] [-d DUR] [-q QUANTUM] [--linux-cpu CPU] [--json]
//
// list names every event: Linux's hardware (available if Linux opens
// them here, as papi_avail probes) and software ones, and the LWK's own
// (lwk/NAME/, sde:::lwk::NAME). stat runs PROG under mcexec with a JSON
// profile, which the kernel makes at the process's end with every
// thread's counters, and prints perf stat's table or CSV (package
// perf/stat); with -a it counts the whole instance between reads of its
// daemon (inspect/lwk), every -I milliseconds or once. top shows each LWK
// thread's rates over each refresh, from the same reads.
//
// noise runs a fixed-work-quantum loop on every LWK CPU of instance N and
// on a Linux CPU side by side and prints each CPU's quantum times and
// noise fraction (package perf/noise). Its workers are mcperf itself,
// re-executed (under mcexec on the LWK) with the hidden --worker flag.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/perf/noise"
)

// subcommands are mcperf's, by name.
var subcommands = map[string]func(args []string){
	"list":  listMain,
	"noise": noiseMain,
	"stat":  statMain,
	"top":   topMain,
}

func main() {
	if len(os.Args) < 2 || subcommands[os.Args[1]] == nil {
		names := make([]string, 0, len(subcommands))
		for n := range subcommands {
			names = append(names, n)
		}
		slices.Sort(names)
		what := "no subcommand"
		if len(os.Args) >= 2 {
			what = fmt.Sprintf("unknown subcommand %q", os.Args[1])
		}
		fmt.Fprintf(os.Stderr, "mcperf: %s; usage: mcperf {%s} [FLAGS]\n", what, strings.Join(names, "|"))
		os.Exit(2)
	}
	subcommands[os.Args[1]](os.Args[2:])
}

func noiseMain(args []string) {
	fs := pflag.NewFlagSet("mcperf noise", pflag.ContinueOnError)
	o := noise.Options{}
	fs.IntVarP(&o.Instance, "instance", "i", 0, "OS instance `N` (mcos<N>) whose LWK CPUs to measure")
	fs.DurationVarP(&o.Duration, "duration", "d", 10*time.Second, "`DUR` the loop runs on each CPU for")
	fs.DurationVarP(&o.Quantum, "quantum", "q", time.Millisecond, "the work of one `QUANTUM`, as timed on the Linux CPU")
	fs.IntVar(&o.LinuxCPU, "linux-cpu", -1, "the Linux `CPU` measured beside the LWK's (-1: the first not the instance's)")
	asJSON := fs.Bool("json", false, "print JSON")
	var spec noise.WorkerSpec
	worker := fs.Bool("worker", false, "run as one worker (mcperf runs these itself)")
	fs.IntVar(&spec.CPU, "cpu", 0, "worker: the host CPU to pin to")
	fs.IntVar(&spec.Iterations, "iterations", 0, "worker: work steps a quantum")
	for _, f := range []string{"worker", "cpu", "iterations"} {
		fs.MarkHidden(f)
	}
	cli.Run(fs, args, func() error {
		if *worker {
			spec.Quantum, spec.Duration = o.Quantum, o.Duration
			return noise.Worker(spec, os.Stdin, os.Stdout)
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		if o.Mcexec, err = mcexecPath(self); err != nil {
			return err
		}
		o.Worker = func(s noise.WorkerSpec) []string {
			return []string{self, "noise", "--worker", "--cpu", fmt.Sprint(s.CPU), "--iterations", fmt.Sprint(s.Iterations), "-q", s.Quantum.String(), "-d", s.Duration.String()}
		}
		rep, err := noise.Run(o)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(os.Stdout, rep)
		}
		return noise.PrintTable(os.Stdout, rep)
	})
}

// mcexecPath finds mcexec beside mcperf (as make installs them), else on
// PATH.
func mcexecPath(self string) (string, error) {
	beside := filepath.Join(filepath.Dir(self), "mcexec")
	if _, err := os.Stat(beside); err == nil {
		return beside, nil
	}
	p, err := exec.LookPath("mcexec")
	if err != nil {
		return "", fmt.Errorf("mcexec is neither beside %s nor on PATH: %w", self, err)
	}
	return p, nil
}
