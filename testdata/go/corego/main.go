// Command corego is the Go program the core file tests dump and read with
// dlv: goroutines stay blocked in a channel receive, a select, time.Sleep
// and a mutex, beside known globals. It prints "ready PID" once they are
// all started, then by its argument:
//
//	corego crash  dereferences a nil pointer in main.crash; with
//	              GOTRACEBACK=crash the runtime then aborts (SIGABRT), the
//	              death that writes a core
//	corego wait   reads stdin until EOF and exits 0, for a core of a
//	              running process
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

type config struct {
	Name  string
	Limit int
}

// What the tests print with dlv, set at run time so that they are in
// written memory and the linker keeps them.
var (
	counter  int
	greeting string
	settings map[string]int
	conf     *config
)

var (
	never  = make(chan int)
	quiet  = make(chan string)
	mu     sync.Mutex
	starts sync.WaitGroup
)

//go:noinline
func receiver() {
	starts.Done()
	<-never
}

//go:noinline
func selecter() {
	starts.Done()
	select {
	case <-never:
	case <-quiet:
	}
}

//go:noinline
func sleeper() {
	starts.Done()
	time.Sleep(time.Hour)
}

//go:noinline
func locker() {
	starts.Done()
	mu.Lock()
}

//go:noinline
func crash(c *config) int {
	return c.Limit + counter
}

func main() {
	counter = 4242
	greeting = "gomck go core"
	settings = map[string]int{"alpha": 1, "beta": 2}
	conf = &config{Name: "corego", Limit: 9}
	mu.Lock() // held by main, so that locker blocks
	for _, f := range []func(){receiver, selecter, sleeper, locker} {
		starts.Add(1)
		go f()
	}
	starts.Wait()
	// Done comes just before each blocks; let them get there.
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("ready %d\n", os.Getpid())
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		io.Copy(io.Discard, os.Stdin)
		return
	}
	var c *config
	if len(os.Args) > 2 {
		c = conf // never: the nil pointer must not be constant
	}
	os.Exit(crash(c))
}
