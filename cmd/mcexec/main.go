// Command mcexec runs a program on an LWK instance:
//
//	mcexec [-n PPN] [-t WORKERS] [-h SIZE|--extend-heap-by=SIZE] [--profile[=json:FILE]] [OS_INDEX] COMMAND [ARG...]
//
// -n says the program is one of PPN processes an MPI launcher starts on
// this node (mpirun -n N mcexec -n PPN ./a.out): each gets its share of
// the instance's CPUs by local rank, as McKernel's partitioned execution.
// --profile prints the program's system calls at its exit (count, total
// and mean time, local vs offloaded, per thread and per process) to stderr,
// or with =json:FILE writes them to FILE, one JSON object a process; forked
// children are profiled too, each by its own mcexec.
// -t sets the workers started at once (default 1); mcexec adds one
// whenever all are busy, so calls that block in Linux never hold up others.
// It must be built as a PIE with cgo (make does), so that its constructor
// can reserve the app window before the Go runtime starts.
// The runtime would otherwise keep cgroup CPU-limit files open from
// startup, and the app's first open must return 3 as it does natively.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/mcexec"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mcexec [-n PPN] [-t WORKERS] [-h SIZE|--extend-heap-by=SIZE] [--profile[=json:FILE]] [OS_INDEX] COMMAND [ARG...]")
	os.Exit(1)
}

func main() {
	o := mcexec.Options{Workers: 1, HeapExtend: 2 << 20}
	if spec := os.Getenv(mcexec.AttachEnv); spec != "" {
		os.Unsetenv(mcexec.AttachEnv)
		exit(mcexec.Attach(spec, o))
	}
	args := os.Args[1:]
	// Options stop at the first non-option, as McKernel's mcexec: the rest
	// belongs to the program.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		val := func() string {
			if i := strings.IndexByte(a, '='); i >= 0 {
				return a[i+1:]
			}
			if len(args) < 2 {
				usage()
			}
			args = args[1:]
			return args[0]
		}
		switch {
		case a == "--":
			args = args[1:]
			goto done
		case a == "-n" || strings.HasPrefix(a, "--nr-processes"):
			n, err := strconv.Atoi(val())
			if err != nil || n < 1 {
				fatal(fmt.Errorf("-n: invalid number of processes"))
			}
			o.PPN = n
		case a == "-t" || strings.HasPrefix(a, "--threads"):
			n, err := strconv.Atoi(val())
			if err != nil || n < 1 {
				fatal(fmt.Errorf("bad worker count"))
			}
			o.Workers = n
		case a == "-h" || strings.HasPrefix(a, "--extend-heap-by"):
			ch, err := partition.ParseMemSpec(val())
			if err != nil {
				fatal(err)
			}
			o.HeapExtend = uint64(ch[0].Size)
		case a == "--profile" || strings.HasPrefix(a, "--profile="):
			// The value is optional, so only in the = form.
			_, value, _ := strings.Cut(a, "=")
			pr, err := mcexec.ParseProfile(value)
			if err != nil {
				fatal(err)
			}
			o.Profile = pr
		case a == "--help":
			usage()
		default:
			fatal(fmt.Errorf("unknown option %s", a))
		}
		args = args[1:]
	}
done:
	if len(args) > 1 {
		if n, err := strconv.Atoi(args[0]); err == nil && n >= 0 {
			o.Instance, args = n, args[1:]
		}
	}
	if len(args) == 0 {
		usage()
	}
	o.Argv = args
	code, sig, err := mcexec.Run(o)
	exit(code, sig, err)
}

// exit ends mcexec as its LWK process ended.
func exit(code int, sig syscall.Signal, err error) {
	if err != nil {
		fatal(err)
	}
	if sig != 0 {
		// Die of the same signal, without dumping mcexec's own core over
		// the app's: RLIMIT_CORE 0 stops a core file, only not being
		// dumpable stops a pipe core_pattern, for which Linux ignores it.
		unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
		resetAndRaise(sig)
		os.Exit(128 + int(sig))
	}
	os.Exit(code)
}

func fatal(err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "mcexec:") {
		msg = "mcexec: " + msg
	}
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
