package partition

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pfKthread is PF_KTHREAD in the flags field of /proc/<tid>/stat.
const pfKthread = 0x00200000

// isKernelThread reports whether tid is a kernel thread. A task that is
// gone (unreadable stat) counts as one, so that it is simply skipped.
func isKernelThread(tid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return true
	}
	// The command name may contain spaces and parentheses: the fields
	// start after the last ')'. flags is the 9th field, the 7th after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 7 {
		return true
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	return err != nil || flags&pfKthread != 0
}

// takeTasks moves the user tasks listed in src (a tasks or cgroup.procs
// file) into dst and returns how many moved. Kernel threads are skipped;
// tasks that refuse to move are ignored. A few passes catch tasks forked
// while the first pass ran.
func takeTasks(src, dst string) int {
	moved := 0
	tried := map[int]bool{}
	for pass := 0; pass < 3; pass++ {
		ids, err := readIDs(src)
		if err != nil {
			return moved
		}
		progress := false
		for _, id := range ids {
			if tried[id] {
				continue
			}
			tried[id] = true
			if isKernelThread(id) {
				continue
			}
			if writeCgroupFile(dst, strconv.Itoa(id)) == nil {
				moved++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return moved
}

// drainGroup moves every task listed in src into dst. It does not report
// failures: removing the group afterwards is what tells whether it is
// empty (see rmdirRetry).
func drainGroup(src, dst string) {
	for pass := 0; pass < 5; pass++ {
		ids, err := readIDs(src)
		if err != nil || len(ids) == 0 {
			return
		}
		for _, id := range ids {
			_ = writeCgroupFile(dst, strconv.Itoa(id))
		}
	}
}

// rmdirRetry removes a cgroup directory. Removal fails with EBUSY while the
// group still holds tasks, which includes exiting tasks that are about to
// leave, so it retries for up to a second. A missing group is fine.
func rmdirRetry(dir string) error {
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		err = rmdirGroup(dir)
		if err == nil || isNotExist(err) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	left := ""
	for _, f := range []string{"cgroup.procs", "tasks"} {
		if s, rerr := readCgroupFile(dir + "/" + f); rerr == nil && s != "" {
			left = fmt.Sprintf(" (tasks left: %s)", strings.Join(strings.Fields(s), ","))
			break
		}
	}
	return fmt.Errorf("remove cgroup %s: %w%s", dir, err, left)
}
