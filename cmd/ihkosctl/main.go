// Command ihkosctl controls an OS instance, with IHK's sub-commands:
//
//	ihkosctl INDEX status|kmsg|clear_kmsg|query cpu|query mem|query_free_mem|shutdown
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gomck/gomck/delegator/control"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: ihkosctl INDEX status|kmsg|clear_kmsg|query cpu|query mem|query_free_mem|shutdown")
		os.Exit(1)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "ihkosctl: bad instance %q\n", os.Args[1])
		os.Exit(1)
	}
	cmd := strings.Join(os.Args[2:], " ")
	ops := map[string]string{
		"status": control.OpStatus, "kmsg": control.OpKmsg, "clear_kmsg": control.OpClearKmsg,
		"query cpu": control.OpQueryCPU, "query mem": control.OpQueryMem, "query_free_mem": control.OpQueryFreeMem,
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ihkosctl:", err)
	os.Exit(1)
}
