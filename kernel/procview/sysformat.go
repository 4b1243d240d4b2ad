package procview

import (
	"fmt"
	"sort"
	"strings"
)

// List renders a CPU or node set in Linux's list format ("0-3,8").
func List(ids []int) string {
	s := append([]int(nil), ids...)
	sort.Ints(s)
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		} else {
			parts = append(parts, fmt.Sprint(s[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// Mask renders a set as Linux's hex bitmap: 32-bit words, most
// significant first, separated by commas, the first without leading zeros.
func Mask(ids []int) string {
	top := 0
	for _, id := range ids {
		top = max(top, id)
	}
	words := make([]uint32, top/32+1)
	for _, id := range ids {
		words[id/32] |= 1 << (id % 32)
	}
	var b strings.Builder
	for i := len(words) - 1; i >= 0; i-- {
		if i == len(words)-1 {
			fmt.Fprintf(&b, "%x", words[i])
		} else {
			fmt.Fprintf(&b, ",%08x", words[i])
		}
	}
	return b.String()
}

// NodeMeminfo renders /sys/devices/system/node/node<N>/meminfo for the
// partition memory on that node (bytes).
func NodeMeminfo(node int, total, free uint64) []byte {
	var b strings.Builder
	for _, l := range []struct {
		k string
		v uint64
	}{{"MemTotal", total}, {"MemFree", free}, {"MemUsed", total - free}} {
		fmt.Fprintf(&b, "Node %d %-15s %8d kB\n", node, l.k+":", l.v/1024)
	}
	return []byte(b.String())
}
