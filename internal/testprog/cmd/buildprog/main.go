// Command buildprog builds test programs from testdata/ and prints their
// paths: buildprog NAME... (C programs by name; go:NAME for Go ones).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomck/gomck/internal/testprog"
)

func main() {
	for _, name := range os.Args[1:] {
		var p string
		var err error
		if g, ok := strings.CutPrefix(name, "go:"); ok {
			p, err = testprog.Go(g)
		} else {
			p, err = testprog.C(name)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildprog:", err)
			os.Exit(1)
		}
		fmt.Println(p)
	}
}
