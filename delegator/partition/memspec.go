package partition

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ChunkAlign is the granule of partition memory. Chunks are rounded up to
// it so that every chunk (and so every node boundary in the memfd) is
// 2 MiB aligned, which keeps huge-page mappings of the partition possible
// and matches the granule IHK reserves memory in.
const ChunkAlign = 2 << 20

// MemChunk is one piece of the partition's memory: Size bytes on NUMA node
// Node (-1 = any node).
type MemChunk struct {
	Size int64
	Node int
}

// sizeUnits are the binary units of the -m syntax, largest first so that
// FormatSize picks the shortest exact one.
var sizeUnits = []struct {
	suffix byte
	mult   int64
}{
	{'T', 1 << 40},
	{'G', 1 << 30},
	{'M', 1 << 20},
	{'K', 1 << 10},
}

// ParseMemSpec parses McKernel's -m syntax: a comma-separated list of
// SIZE[@NODE], for example "512M", "2G@0" or "512M@0,512M@1". SIZE is a
// number of bytes with an optional binary suffix K, M, G or T (either case).
// Each size is rounded up to a multiple of ChunkAlign (2 MiB). A chunk
// without @NODE has Node -1 (any node).
func ParseMemSpec(s string) ([]MemChunk, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("bad memory spec %q: empty", s)
	}
	var chunks []MemChunk
	for _, part := range strings.Split(t, ",") {
		part = strings.TrimSpace(part)
		sizeStr, nodeStr, hasNode := strings.Cut(part, "@")
		size, err := parseSize(sizeStr)
		if err != nil {
			return nil, err
		}
		node := -1
		if hasNode {
			n, err := strconv.Atoi(nodeStr)
			if err != nil || n < 0 || !isDigits(nodeStr) {
				return nil, fmt.Errorf("bad NUMA node %q in %q", nodeStr, part)
			}
			node = n
		}
		chunks = append(chunks, MemChunk{Size: size, Node: node})
	}
	return chunks, nil
}

// parseSize parses one SIZE and rounds it up to ChunkAlign.
func parseSize(s string) (int64, error) {
	bad := func(why string) error { return fmt.Errorf("bad memory size %q: %s", s, why) }
	if s == "" {
		return 0, bad("empty")
	}
	num, mult := s, int64(1)
	last := s[len(s)-1]
	if last < '0' || last > '9' {
		mult = 0
		for _, u := range sizeUnits {
			if last == u.suffix || last == u.suffix+('a'-'A') {
				mult = u.mult
			}
		}
		if mult == 0 {
			return 0, bad("unknown unit (use K, M, G or T)")
		}
		num = s[:len(s)-1]
	}
	if !isDigits(num) {
		return 0, bad("not a number")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (math.MaxInt64-ChunkAlign)/mult {
		return 0, bad("too large")
	}
	if n == 0 {
		return 0, bad("must be greater than zero")
	}
	return roundUp(n*mult, ChunkAlign), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// roundUp rounds n up to a multiple of align (a power of two).
func roundUp(n, align int64) int64 {
	return (n + align - 1) &^ (align - 1)
}

// FormatSize writes n in the shortest exact unit of the -m syntax: "4K",
// "512M", "1536M", "1G"; sizes that are not a multiple of 1 KiB are plain
// bytes. ParseMemSpec(FormatSize(n)) gives n back for any positive
// multiple of 2 MiB.
func FormatSize(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range sizeUnits {
		if n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + string(u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}

// humanSize writes n for people, not for parsing: exact when possible,
// otherwise with one decimal ("22.1G"), as in error messages.
func humanSize(n int64) string {
	for _, u := range sizeUnits {
		if n >= u.mult || -n >= u.mult {
			if n%u.mult == 0 {
				return FormatSize(n)
			}
			return strconv.FormatFloat(float64(n)/float64(u.mult), 'f', 1, 64) + string(u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}
