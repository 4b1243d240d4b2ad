// Command mcgcore writes core files of live LWK processes, as gdb's gcore
// does for Linux processes: each process is paused only while the LWK
// copies its memory, then runs on, and gdb or dlv open the core as any
// other (see package gencore).
//
//	mcgcore [-i INSTANCE] [-o FILE] PID...
//
// PID is the LWK pid (what the app's getpid returns and mcps shows). The
// core of PID goes to FILE.PID, core.PID by default. A core that cannot be
// written whole (a full disk) is removed.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/delegator/control"
)

func main() {
	fs := pflag.NewFlagSet("mcgcore", pflag.ContinueOnError)
	instance := fs.IntP("instance", "i", 0, "the LWK `INSTANCE` (mcos<N>)")
	prefix := fs.StringP("output", "o", "core", "write the core of PID to `FILE`.PID")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mcgcore [-i INSTANCE] [-o FILE] PID...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		os.Exit(2)
	}
	status := 0
	for _, arg := range fs.Args() {
		pid, err := strconv.Atoi(arg)
		if err != nil || pid <= 0 {
			fmt.Fprintf(os.Stderr, "mcgcore: %q is not a process id\n", arg)
			status = 1
			continue
		}
		path := *prefix + "." + arg
		if _, err := control.Gcore(*instance, pid, path); err != nil {
			fmt.Fprintf(os.Stderr, "mcgcore: %d: %v\n", pid, err)
			status = 1
			continue
		}
		fmt.Printf("Saved corefile %s\n", path)
	}
	os.Exit(status)
}
