package command

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/lwkabi"
)

// log prints the kmsg ring.
func (s *Session) log(args []string) error {
	if err := operands("log", args, 0, 0); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	text := snap.Kmsg
	if s.dump != nil && (text == "" || text == "(changing)\n") {
		// The ring was being written at the dump: capture saved its text.
		text = s.dump.Kmsg
	}
	_, err = fmt.Fprint(s.Out, text)
	return err
}

// sys prints what crash prints at start: the dump and the instance.
func (s *Session) sys(args []string) error {
	if err := operands("sys", args, 0, 0); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	threads := 0
	for _, p := range snap.Procs {
		threads += len(p.Threads)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "      KERNEL: %s  [build %s]\n", s.tg.Kernel, s.tg.BuildID)
	if s.dump != nil {
		h := s.dump.Header
		fmt.Fprintf(&b, "    DUMPFILE: %s  [level %d%s]\n        DATE: %s\n", s.dump.Path, h.Level, reason(h.Reason), h.Time)
	} else {
		fmt.Fprintf(&b, "    DUMPFILE: %s\n", snap.Source)
	}
	fmt.Fprintf(&b, "    INSTANCE: mcos%d (daemon pid %d)\n       STATE: %s\n        CPUS: %d\n      MEMORY: %s\n       TASKS: %d processes, %d threads\n",
		snap.Index, snap.DaemonPID, snap.State, len(snap.CPUs), bytesSize(snap.MemTotal), len(snap.Procs), threads)
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return ", " + r
}

// bytesSize is a size as crash's kmem -i shows it: "7.5 GB", "488 MB".
func bytesSize(n uint64) string {
	units := []string{"KB", "MB", "GB", "TB"}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v, u = v/1024, u+1
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[u]
}

// kmem prints the allocator (-i) or the kernel's records (-s).
func (s *Session) kmem(args []string) error {
	var info, slabs bool
	rest, err := flags("kmem", args, func(fs *pflag.FlagSet) {
		fs.BoolVarP(&info, "info", "i", false, "")
		fs.BoolVarP(&slabs, "slab", "s", false, "")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 || info == slabs {
		return fmt.Errorf("usage: kmem -i|-s")
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	if info {
		return s.kmemInfo(snap)
	}
	return s.kmemRecords(snap)
}

// kmemInfo is crash's kmem -i: the partition, then each NUMA node.
func (s *Session) kmemInfo(snap *lwk.Snapshot) error {
	a := snap.Alloc
	if a.Changing {
		return fmt.Errorf("page allocator (changing)")
	}
	var b strings.Builder
	block := func(title string, total, free uint64) {
		if title != "" {
			fmt.Fprintf(&b, "\n%s:\n", title)
		}
		pct := func(n uint64) string {
			if total == 0 {
				return "----"
			}
			return fmt.Sprintf("%d%% of TOTAL MEM", n*100/total)
		}
		fmt.Fprintf(&b, "%27s %12s %19s\n", "PAGES", "TOTAL", "PERCENTAGE")
		fmt.Fprintf(&b, "%13s %13d %12s %19s\n", "TOTAL MEM", total, bytesSize(total*lwkabi.PageSize), "----")
		fmt.Fprintf(&b, "%13s %13d %12s  %s\n", "FREE", free, bytesSize(free*lwkabi.PageSize), pct(free))
		fmt.Fprintf(&b, "%13s %13d %12s  %s\n", "USED", total-free, bytesSize((total-free)*lwkabi.PageSize), pct(total-free))
	}
	block("", a.Pages, a.Free)
	fmt.Fprintf(&b, "%13s %13d %12s\n", "LARGEST FREE", a.Largest, bytesSize(a.Largest*lwkabi.PageSize))
	fmt.Fprintf(&b, "%13s %13d\n%13s %13d\n%13s %13d\n", "FREE RUNS", a.Runs, "ALLOCS", a.Allocs, "FAILS", a.Fails)
	for _, n := range a.Nodes {
		block(fmt.Sprintf("NODE %d", n.Node), n.Pages, n.Free)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}

// kmemRecords is crash's kmem -s in spirit: the kernel has no slab
// caches, its records are Go objects; each kind is counted and sized by
// its type in the daemon's DWARF.
func (s *Session) kmemRecords(snap *lwk.Snapshot) error {
	var threads, vmas, segs, channels, queued int
	for _, p := range snap.Procs {
		threads += len(p.Threads)
		vmas += len(p.VMAs)
		for _, v := range p.VMAs {
			segs += len(v.Segs)
		}
		if p.IKC != nil {
			channels++
			queued += len(p.IKC.Queued)
		}
	}
	records := []struct {
		typ   string
		count int
		what  string
	}{
		{"kernel.CPU", len(snap.CPUs), "LWK CPUs"},
		{"kernel/task.Process", len(snap.Procs), "processes"},
		{"kernel/task.Thread", threads, "threads"},
		{"kernel/mm.AddressSpace", len(snap.Procs), "address spaces"},
		{"kernel/mm.VMA", vmas, "VMAs"},
		{"kernel/lwkabi.Segment", segs, "page-table segments"},
		{"kernel/mm.Run", snap.Alloc.Runs, "free page runs"},
		{"delegator/ikc.Channel", channels, "IKC channels"},
		{"delegator/ikc.Slot", channels * ikc.SlotCount, fmt.Sprintf("IKC slots, %d in use", queued)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-26s %8s %9s %10s  %s\n", "NAME", "OBJSIZE", "ALLOCATED", "TOTAL", "WHAT")
	for _, r := range records {
		size := s.typeSize(r.typ)
		fmt.Fprintf(&b, "%-26s %8d %9d %10s  %s\n", r.typ, size, r.count, bytesSize(uint64(size)*uint64(r.count)), r.what)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}

// typeSize is the size of a kernel type (named after the module) by the
// daemon's DWARF, 0 if the layout lacks it.
func (s *Session) typeSize(name string) int64 {
	if t, ok := s.layout.Lookup(modulePath + name); ok && t.Kind != layout.Other {
		return t.Size
	}
	return 0
}

// modulePath is the import path the kernel's type names are under.
const modulePath = "github.com/gomck/gomck/"
