package lwkabi

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MapsLine is one line of /proc/PID/maps.
type MapsLine struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64
	Name       string // path, [heap], [vdso]...; "" for anonymous memory
}

// ReadMaps reads /proc/PID/maps: the daemon's mappings for a dump, a
// stub's special pages for a core.
func ReadMaps(pid int) ([]MapsLine, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []MapsLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l, err := ParseMapsLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/maps: %w", pid, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("/proc/%d/maps: %w", pid, err)
	}
	return out, nil
}

// ParseMapsLine reads "START-END PERMS OFFSET DEV INODE [NAME]".
func ParseMapsLine(s string) (MapsLine, error) {
	fs := strings.Fields(s)
	if len(fs) < 5 {
		return MapsLine{}, fmt.Errorf("bad line %q: want START-END PERMS OFFSET DEV INODE [NAME]", s)
	}
	lo, hi, _ := strings.Cut(fs[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	off, err3 := strconv.ParseUint(fs[2], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil || end < start || len(fs[1]) != 4 {
		return MapsLine{}, fmt.Errorf("bad line %q", s)
	}
	return MapsLine{Start: start, End: end, Perms: fs[1], Offset: off, Name: strings.Join(fs[5:], " ")}, nil
}
