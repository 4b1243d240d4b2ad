// Command gen writes lwk_events.h, the C side of package sde's layout:
// the page's magic, auxv type and the events with their words.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/gomck/gomck/perf/sde"
)

func main() {
	out := flag.String("o", "lwk_events.h", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, sde.Header(), 0o644); err != nil {
		log.Fatalf("gen: %v", err)
	}
}
