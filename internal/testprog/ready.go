package testprog

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WaitReady waits up to timeout for a long-running program to write
// "ready" as its first line on out, then discards the rest of out so that
// the program never blocks on a full pipe.
func WaitReady(out io.Reader, timeout time.Duration) error {
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		first <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-first:
		if line != "ready\n" {
			return fmt.Errorf("said %q instead of ready", line)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("not ready within %v", timeout)
	}
}
