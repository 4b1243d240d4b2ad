// Command mcstop shuts down every LWK instance and releases their CPUs and
// memory, as McKernel's mcstop+release.sh.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
)

func main() {
	failed := false
	for _, n := range control.Booted() {
		if err := control.Stop(n, 15*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "mcstop: instance %d: %v\n", n, err)
			failed = true
		}
		partition.ReleaseStale(fmt.Sprintf("mcos%d", n))
	}
	if failed {
		os.Exit(1)
	}
}
