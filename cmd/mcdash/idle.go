package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// idle puts every thread of mcdash under SCHED_IDLE, as `chrt -i 0`
// would: the Linux CPU it shares serves the LWK's offloaded calls (mcexec's
// workers), which must not wait for a dashboard. Threads the runtime makes
// later inherit it from the ones that make them.
func idle() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("SCHED_IDLE: %w", err)
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil && err != unix.ESRCH {
			return fmt.Errorf("SCHED_IDLE for thread %d: %w", tid, err)
		}
	}
	return nil
}
