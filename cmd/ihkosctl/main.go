// Command ihkosctl controls an OS instance, with IHK's sub-commands:
//
//	ihkosctl INDEX status|kmsg|clear_kmsg|query cpu|query mem|query_free_mem|shutdown|panic
//	ihkosctl INDEX dump [-d LEVEL] [FILE]
//	ihkosctl INDEX counting on|off
//
// counting off stops the LWK's syscall counting (its events, profiles and
// PAPI's page stand still) until counting on: make bench measures what
// counting costs with it.
//
// panic makes the LWK panic (its sysrq-c): the daemon dumps itself to
// $GOMCK_DUMPDIR and ends.
//
// dump writes a kernel dump of the instance (package crash/capture) to
// FILE, mcdump_INDEX_TIMESTAMP by default: level 24 (the default) holds
// the kernel's memory, level 0 the partition too. It reads the daemon
// from outside, so a busy, stopped or wedged daemon is dumped alike.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gomck/gomck/crash/capture"
	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/crash/monitor"
	"github.com/gomck/gomck/delegator/control"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: ihkosctl INDEX status|kmsg|clear_kmsg|query cpu|query mem|query_free_mem|shutdown|panic|counting on|off|dump [-d LEVEL] [FILE]")
		os.Exit(1)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "ihkosctl: bad instance %q\n", os.Args[1])
		os.Exit(1)
	}
	switch os.Args[2] {
	case "dump":
		dump(n, os.Args[3:])
		return
	case "status":
		if len(os.Args) == 3 {
			status(n)
			return
		}
	}
	cmd := strings.Join(os.Args[2:], " ")
	ops := map[string]string{
		"kmsg": control.OpKmsg, "clear_kmsg": control.OpClearKmsg,
		"query cpu": control.OpQueryCPU, "query mem": control.OpQueryMem, "query_free_mem": control.OpQueryFreeMem,
		"panic": control.OpPanic, "counting on": control.OpCountingOn, "counting off": control.OpCountingOff,
	}
	if cmd == "shutdown" {
		if err := control.Stop(n, 15*time.Second); err != nil {
			fail(err)
		}
		return
	}
	op, ok := ops[cmd]
	if !ok {
		fail(fmt.Errorf("unknown command %q", cmd))
	}
	resp, err := control.Query(n, op)
	if err != nil {
		fail(err)
	}
	fmt.Print(resp.Text)
	if resp.Text != "" && !strings.HasSuffix(resp.Text, "\n") {
		fmt.Println()
	}
}

// status is ihkosctl N status (monitor.Status): the monitor's verdict
// with its files, or the daemon's own answer.
func status(n int) {
	v, err := monitor.Status(n)
	if err != nil {
		fail(err)
	}
	if v.Text != "" {
		fmt.Print(v.Text)
		return
	}
	fmt.Printf("status: %s\n", v.State)
	if !v.Since.IsZero() {
		fmt.Printf("since: %s (%v ago)\n", v.Since.Format(time.DateTime), time.Since(v.Since).Round(time.Second))
	}
	for _, f := range [][2]string{{"reason", v.Reason}, {"dump", v.Dump}, {"kmsg", v.Kmsg}} {
		if f[1] != "" {
			fmt.Printf("%s: %s\n", f[0], f[1])
		}
	}
}

// dump is ihkosctl N dump [-d LEVEL] [FILE].
func dump(n int, args []string) {
	fs := flag.NewFlagSet("ihkosctl dump", flag.ExitOnError)
	level := fs.Int("d", dumpfile.Level24, "dump `LEVEL`: 24, the kernel's memory; 0, the partition too")
	fs.Parse(args)
	if fs.NArg() > 1 {
		fail(fmt.Errorf("dump takes one FILE, not %q", fs.Args()))
	}
	res, err := capture.Capture(capture.Options{Instance: n, Level: *level, Path: fs.Arg(0), Reason: "ihkosctl dump", Progress: os.Stderr})
	if err != nil {
		fail(err)
	}
	if res.Records != "" {
		fmt.Fprintf(os.Stderr, "ihkosctl: warning: the kernel's records could not be read (%s): the dump has no kmsg or threads\n", res.Records)
	}
	fmt.Printf("dumped instance %d (level %d) to %s: %s of memory, %s stored, %s zero, %d threads, %s on disk, in %v\n",
		n, *level, res.Path, size(res.Memory), size(res.Stored), size(res.Zero), res.Threads, size(uint64(res.Size)), res.Elapsed.Round(time.Millisecond))
}

// size writes n in MiB, as people read a dump's sizes.
func size(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ihkosctl:", err)
	os.Exit(1)
}
