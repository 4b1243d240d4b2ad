// Command mcinspect shows the state of an LWK instance read from the
// daemon's memory through its DWARF, without stopping it, or from a dump:
// McKernel's mcinspect, with crash's vtop and rd. See packages inspect and
// inspect/report.
//
//	mcinspect --ps [-p PID] [-o COLUMNS]
//	mcinspect --vtop -p PID -v VA
//	mcinspect --maps -p PID
//	mcinspect --read -p PID -v VA [-n LEN]
//	mcinspect --mem | --kmsg | --threads [-p PID]
//	mcinspect --print EXPR
//
// with -i N, --dump FILE, --kernel PATH and --json everywhere.
package main

import (
	"errors"
	"os"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/report"
)

func main() {
	fs := pflag.NewFlagSet("mcinspect", pflag.ContinueOnError)
	var t cli.Target
	ps := fs.Bool("ps", false, "list threads by LWK CPU (as mcps)")
	vtop := fs.Bool("vtop", false, "walk the page table of -p PID for -v VA")
	maps := fs.Bool("maps", false, "list the VMAs and page-table coverage of -p PID")
	read := fs.Bool("read", false, "hex dump -n LEN bytes of -p PID's memory at -v VA")
	mem := fs.Bool("mem", false, "page allocator summary per NUMA node")
	kmsg := fs.Bool("kmsg", false, "the kernel message ring")
	threads := fs.Bool("threads", false, "every thread record (registers, counters) and IKC channel, as JSON")
	print := fs.String("print", "", "evaluate the Go `EXPR` on kernel state, e.g. 'kernel.Instance.CPUs[0].State'")
	pid := fs.IntP("pid", "p", 0, "LWK process `PID`")
	va := fs.StringP("va", "v", "", "virtual address `VA` (hex) for --vtop and --read")
	length := fs.IntP("length", "n", 64, "`LEN` bytes for --read")
	cols := fs.StringP("format", "o", report.McKernel, "`COLUMNS` for --ps, as ps -o")
	t.Register(fs)
	cli.Run(fs, os.Args[1:], func() error {
		switch {
		case *ps:
			return cli.PS(&t, *pid, *cols)
		case *vtop:
			return cli.Vtop(&t, *pid, *va)
		case *maps:
			return cli.Maps(&t, *pid)
		case *read:
			return cli.Read(&t, *pid, *va, *length)
		case *mem:
			return cli.Mem(&t)
		case *kmsg:
			return cli.Kmsg(&t)
		case *threads:
			return cli.Threads(&t, *pid)
		case *print != "":
			return cli.Print(&t, *print)
		}
		fs.Usage()
		return errors.New("say what to show: --ps, --vtop, --maps, --read, --mem, --kmsg, --threads or --print")
	})
}
