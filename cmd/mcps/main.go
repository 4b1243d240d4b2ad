// Command mcps lists the threads of an LWK instance, as McKernel's
// mcinspect --ps with ps's columns added, read from the daemon's memory
// without stopping it (or from a dump). See package inspect/report.
//
//	mcps [-i N] [-p PID] [-o COLUMNS] [--json] [--dump FILE] [--kernel PATH]
package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/report"
)

func main() {
	fs := pflag.NewFlagSet("mcps", pflag.ContinueOnError)
	var t cli.Target
	pid := fs.IntP("pid", "p", 0, "only the threads of LWK process `PID`")
	cols := fs.StringP("format", "o", report.Default, "`COLUMNS` to show, as ps -o")
	t.Register(fs)
	cli.Run(fs, os.Args[1:], func() error { return cli.PS(&t, *pid, *cols) })
}
