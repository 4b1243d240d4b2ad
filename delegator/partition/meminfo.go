package partition

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// AvailableBytes returns MemAvailable from /proc/meminfo: the kernel's
// estimate of how much memory can be allocated without swapping, which is
// the right bound for a partition that will be pre-faulted and locked.
func AvailableBytes() (int64, error) {
	return meminfoField(procMeminfo, "MemAvailable")
}

// meminfoField returns the field key of a meminfo-style file in bytes. It
// reads both /proc/meminfo ("MemFree:   123 kB") and the per-node files
// ("Node 0 MemFree:   123 kB").
func meminfoField(path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i := 0; i+1 < len(fields); i++ {
			if fields[i] != key+":" {
				continue
			}
			n, err := strconv.ParseInt(fields[i+1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s in %s: bad value %q", key, path, fields[i+1])
			}
			if i+2 < len(fields) && fields[i+2] == "kB" {
				n *= 1024
			}
			return n, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return 0, fmt.Errorf("%s: no %s field", path, key)
}
