// Command mcps lists the threads of an LWK instance, as McKernel's
// mcinspect --ps with ps's columns added, read from the daemon's memory
// without stopping it (or from a dump). See package inspect/report. With
// -d or -n it shows the table again and again, as top -b does.
//
//	mcps [-i N] [-p PID] [-o COLUMNS] [--json] [--dump FILE] [--kernel PATH]
//	     [-d SECONDS] [-n COUNT]
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/report"
)

func main() {
	fs := pflag.NewFlagSet("mcps", pflag.ContinueOnError)
	var t cli.Target
	pid := fs.IntP("pid", "p", 0, "only the threads of LWK process `PID`")
	cols := fs.StringP("format", "o", report.Default, "`COLUMNS` to show, as ps -o")
	delay := fs.Float64P("delay", "d", 1, "with -n or alone: `SECONDS` between tables, as top -d")
	count := fs.IntP("iterations", "n", 0, "show the table `COUNT` times (0: until interrupted), as top -n")
	t.Register(fs)
	cli.Run(fs, os.Args[1:], func() error {
		if !fs.Changed("delay") && !fs.Changed("iterations") {
			return cli.PS(&t, *pid, *cols)
		}
		if *delay < 0 {
			return fmt.Errorf("-d %g: the delay cannot be negative", *delay)
		}
		return cli.Watch(&t, *pid, *cols, time.Duration(*delay*float64(time.Second)), *count)
	})
}
