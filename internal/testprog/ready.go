package testprog

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// WaitReady waits up to timeout for a long-running program to write
// "ready" as its first line on out, then discards the rest of out so that
// the program never blocks on a full pipe.
func WaitReady(out io.Reader, timeout time.Duration) error {
	words, err := WaitReadySaying(out, timeout)
	if err == nil && len(words) > 0 {
		return fmt.Errorf("said %q instead of ready", "ready "+strings.Join(words, " "))
	}
	return err
}

// WaitReadySaying is WaitReady for a program that tells more on its
// ready line, as "ready 4c6f20 4ca2b0" (where its data lies): it returns
// the words after "ready".
func WaitReadySaying(out io.Reader, timeout time.Duration) ([]string, error) {
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		first <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-first:
		rest, ok := strings.CutPrefix(line, "ready")
		if !ok || !strings.HasSuffix(rest, "\n") || rest != "\n" && rest[0] != ' ' {
			return nil, fmt.Errorf("said %q instead of ready", line)
		}
		return strings.Fields(rest), nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("not ready within %v", timeout)
	}
}
