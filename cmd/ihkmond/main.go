// Command ihkmond watches one LWK instance, as McKernel's ihkmond (package
// crash/monitor): mcreboot starts it, and it ends with the instance.
//
//	ihkmond [-i INDEX] [-t TIMEOUT] [-d LEVEL]
//
// An instance that misses heartbeats for TIMEOUT (3s), or panics, is
// HUNGUP or PANIC: it is dumped at LEVEL (24) into $GOMCK_DUMPDIR
// (/var/crash/gomck) with its kmsg beside the dump, and ihkosctl status
// says so.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/crash/monitor"
)

func main() {
	var (
		index   = flag.Int("i", 0, "OS instance number")
		timeout = flag.Duration("t", monitor.DefaultTimeout, "missed heartbeats for this long make the instance HUNGUP")
		level   = flag.Int("d", dumpfile.Level24, "dump level of the dumps of a hung instance")
	)
	flag.Parse()
	if err := monitor.Run(monitor.Options{Instance: *index, Timeout: *timeout, Level: *level}); err != nil {
		fmt.Fprintln(os.Stderr, "ihkmond:", err)
		os.Exit(1)
	}
}
