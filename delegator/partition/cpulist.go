package partition

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxCPU bounds CPU numbers so that a typo such as "0-99999999" fails
// instead of allocating a giant list; Linux itself supports at most 8192
// CPUs (NR_CPUS) on common configurations.
const maxCPU = 1 << 16

// ParseCPUList parses a Linux cpulist ("1", "1,3", "0-3,6") into a sorted,
// de-duplicated list. Surrounding white space (sysfs files end in a
// newline) is ignored.
func ParseCPUList(s string) ([]int, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("bad CPU list %q: empty", s)
	}
	var cpus []int
	for _, part := range strings.Split(t, ",") {
		part = strings.TrimSpace(part)
		lo, hi, err := parseCPURange(part)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q: %w", s, err)
		}
		for c := lo; c <= hi; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// parseCPURange parses "N" or "N-M".
func parseCPURange(part string) (lo, hi int, err error) {
	if part == "" {
		return 0, 0, fmt.Errorf("empty element")
	}
	a, b, isRange := strings.Cut(part, "-")
	if lo, err = parseCPU(a, part); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseCPU(b, part); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("reversed range %q", part)
	}
	return lo, hi, nil
}

// parseCPU parses one non-negative CPU number; only digits are accepted so
// that "+1", "-1" and " 1" are rejected rather than silently accepted.
func parseCPU(s, part string) (int, error) {
	if s == "" {
		if strings.HasPrefix(part, "-") {
			return 0, fmt.Errorf("negative CPU in %q", part)
		}
		return 0, fmt.Errorf("bad range %q", part)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad CPU number %q", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= maxCPU {
		return 0, fmt.Errorf("CPU number %q out of range (max %d)", s, maxCPU-1)
	}
	return n, nil
}

// FormatCPUList is the inverse of ParseCPUList: it sorts and de-duplicates
// cpus and writes runs of two or more consecutive CPUs as ranges ("0-3,6"),
// like the kernel does.
func FormatCPUList(cpus []int) string {
	c := slices.Clone(cpus)
	slices.Sort(c)
	c = slices.Compact(c)
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] == c[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(c[j]))
		}
		i = j + 1
	}
	return b.String()
}

// cpuSetMinus returns the CPUs of a that are not in any of bs.
func cpuSetMinus(a []int, bs ...[]int) []int {
	drop := map[int]bool{}
	for _, b := range bs {
		for _, c := range b {
			drop[c] = true
		}
	}
	var out []int
	for _, c := range a {
		if !drop[c] {
			out = append(out, c)
		}
	}
	return out
}

// cpuSetIntersect returns the CPUs in both a and b, in a's order.
func cpuSetIntersect(a, b []int) []int {
	in := map[int]bool{}
	for _, c := range b {
		in[c] = true
	}
	var out []int
	for _, c := range a {
		if in[c] {
			out = append(out, c)
		}
	}
	return out
}
