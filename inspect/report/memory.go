package report

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/lwkabi"
)

func size(n uint64) string { return partition.FormatSize(int64(n)) }

// Perms renders a VMA's protection as /proc/<pid>/maps does.
func Perms(v lwk.VMA) string {
	b := []byte("---p")
	for i, bit := range []int{unix.PROT_READ, unix.PROT_WRITE, unix.PROT_EXEC} {
		if v.Prot&bit != 0 {
			b[i] = "rwx"[i]
		}
	}
	if v.Flags&unix.MAP_SHARED != 0 {
		b[3] = 's'
	}
	return string(b)
}

var mapFlags = []struct {
	bit  int
	name string
}{
	{unix.MAP_SHARED, "shared"}, {unix.MAP_ANONYMOUS, "anonymous"}, {unix.MAP_FIXED, "fixed"},
	{unix.MAP_GROWSDOWN, "growsdown"}, {unix.MAP_STACK, "stack"}, {unix.MAP_POPULATE, "populate"},
	{unix.MAP_NORESERVE, "noreserve"}, {unix.MAP_HUGETLB, "hugetlb"}, {unix.MAP_LOCKED, "locked"},
}

// Flags names a VMA's MAP_* flags.
func Flags(v lwk.VMA) string {
	out := []string{}
	if v.Flags&unix.MAP_SHARED == 0 {
		out = append(out, "private")
	}
	for _, f := range mapFlags {
		if v.Flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return strings.Join(out, ",")
}

func vmaName(v lwk.VMA) string {
	if v.Name != "" {
		return v.Name
	}
	return v.Kind
}

// WriteMaps prints p's VMAs as /proc/<pid>/maps, with the populated bytes
// and the number of page-table segments of each.
func WriteMaps(w io.Writer, p *lwk.Process) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-5s %-8s %8s %5s  %s\n", "START-END", "PERMS", "OFFSET", "RSS", "SEGS", "NAME")
	for _, v := range p.VMAs {
		fmt.Fprintf(&b, "%012x-%012x %-5s %08x %8s %5d  %s\n", v.Start, v.End, Perms(v), v.FileOff,
			size(v.Populated()), len(v.Segs), vmaName(v))
	}
	fmt.Fprintf(&b, "total: VSZ %s, RSS %s, %d VMAs\n", size(p.VSZ), size(p.RSS), len(p.VMAs))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteVtop prints a translation as crash's vtop.
func WriteVtop(w io.Writer, tr lwk.Translation) error {
	var b strings.Builder
	part, node := "(not populated)", "-"
	if tr.Populated {
		part = fmt.Sprintf("%x", tr.Offset)
		if tr.Node >= 0 {
			node = fmt.Sprint(tr.Node)
		}
	}
	fmt.Fprintf(&b, "%-16s  %-16s  %-4s\n", "VIRTUAL", "PARTITION", "NODE")
	fmt.Fprintf(&b, "%-16x  %-16s  %-4s\n\n", tr.VA, part, node)
	v := tr.VMA
	fmt.Fprintf(&b, "VMA:     %x-%x %s %s (%s)\n", v.Start, v.End, Perms(v), vmaName(v), Flags(v))
	if s := tr.Segment; s != nil {
		fmt.Fprintf(&b, "SEGMENT: %x-%x -> partition %x-%x\n", s.VA, s.VA+s.Len, s.Off, s.Off+s.Len)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMem prints the page allocator: the partition, then each NUMA node.
func WriteMem(w io.Writer, s *lwk.Snapshot) error {
	a := s.Alloc
	var b strings.Builder
	if a.Changing {
		fmt.Fprintln(&b, "page allocator: (changing)")
		_, err := io.WriteString(w, b.String())
		return err
	}
	pg := func(n uint64) string { return size(n * lwkabi.PageSize) }
	fmt.Fprintf(&b, "%-9s %9s %9s %9s %9s %9s %9s %6s\n", "", "TOTAL", "USED", "FREE", "LARGEST", "FREE-RUNS", "ALLOCS", "FAILS")
	fmt.Fprintf(&b, "%-9s %9s %9s %9s %9s %9d %9d %6d\n", "partition", pg(a.Pages), pg(a.Pages-a.Free), pg(a.Free), pg(a.Largest), a.Runs, a.Allocs, a.Fails)
	for _, n := range a.Nodes {
		fmt.Fprintf(&b, "%-9s %9s %9s %9s\n", fmt.Sprintf("node %d", n.Node), pg(n.Pages), pg(n.Pages-n.Free), pg(n.Free))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHex prints b, read at address addr, as crash's rd and xxd do: 16
// bytes a line after their address, then as ASCII ('.' where not
// printable).
func WriteHex(w io.Writer, addr uint64, b []byte) error {
	var out strings.Builder
	for at := 0; at < len(b); at += 16 {
		line := b[at:min(at+16, len(b))]
		fmt.Fprintf(&out, "%x: ", addr+uint64(at))
		for i := range 16 {
			if i == 8 {
				out.WriteByte(' ')
			}
			if i < len(line) {
				fmt.Fprintf(&out, " %02x", line[i])
			} else {
				out.WriteString("   ")
			}
		}
		out.WriteString("  ")
		for _, c := range line {
			if c < ' ' || c > '~' {
				c = '.'
			}
			out.WriteByte(c)
		}
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}
