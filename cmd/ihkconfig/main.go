// Command ihkconfig shows the resources reserved for an IHK device:
//
//	ihkconfig INDEX query cpu|mem
//
// In gomck the reservation and the instance are one, so this asks the
// booted instance.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomck/gomck/delegator/control"
)

func main() {
	if len(os.Args) != 4 || os.Args[2] != "query" || (os.Args[3] != "cpu" && os.Args[3] != "mem") {
		fmt.Fprintln(os.Stderr, "usage: ihkconfig INDEX query cpu|mem")
		os.Exit(1)
	}
	var n int
	if _, err := fmt.Sscan(os.Args[1], &n); err != nil {
		fmt.Fprintf(os.Stderr, "ihkconfig: bad index %q\n", os.Args[1])
		os.Exit(1)
	}
	op := control.OpQueryCPU
	if os.Args[3] == "mem" {
		op = control.OpQueryMem
	}
	resp, err := control.Query(n, op)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ihkconfig:", err)
		os.Exit(1)
	}
	fmt.Println(strings.TrimSpace(resp.Text))
}
