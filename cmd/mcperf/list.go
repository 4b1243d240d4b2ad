package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/perf/stat"
)

func listMain(args []string) {
	fs := pflag.NewFlagSet("mcperf list", pflag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	cli.Run(fs, args, func() error {
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		events := stat.List(stat.HardwareAvailable)
		if *asJSON {
			return cli.PrintJSON(os.Stdout, events)
		}
		return stat.PrintList(os.Stdout, events)
	})
}
