package pages

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/inspect/report"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/web/source"
)

// kmsgTail is how many of the last kmsg lines the overview shows.
const kmsgTail = 20

// topSyscalls is how many offloaded syscalls the instance page lists.
const topSyscalls = 10

func formatSize(n uint64) string { return partition.FormatSize(int64(n)) }

// formatNs is a duration rounded to what a person reads.
func formatNs(ns uint64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func hex(n uint64) string { return fmt.Sprintf("%#016x", n) }

// signalNames lists the signals of a mask (bit sig-1) by name.
func signalNames(mask uint64) string {
	var names []string
	for sig := 1; sig <= 64; sig++ {
		if mask&(1<<(sig-1)) == 0 {
			continue
		}
		if n := unix.SignalName(syscall.Signal(sig)); n != "" {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("SIG%d", sig))
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, " ")
}

// summary is what every instance page and the overview say of an
// instance.
type summary struct {
	Index   int
	Status  string
	Reason  string
	At      string // when it was polled
	CPUs    int
	Busy    int // CPUs running a thread
	Nodes   []nodeMemory
	Procs   []processRow
	Kmsg    string
	Syscall uint64 // every call made since the boot
}

type nodeMemory struct {
	Node              int
	Total, Used, Free string
}

type processRow struct {
	PID, Threads int
	Exe, State   string
}

func summaryOf(in source.Instance) summary {
	s := summary{Index: in.Index, Status: in.Status, Reason: in.Reason}
	if !in.At.IsZero() {
		s.At = in.At.Format("15:04:05.000")
	}
	snap := in.Snap
	if snap == nil {
		return s
	}
	s.CPUs = len(snap.CPUs)
	for _, c := range snap.CPUs {
		if c.Current != 0 {
			s.Busy++
		}
	}
	for _, n := range snap.Alloc.Nodes {
		s.Nodes = append(s.Nodes, nodeMemory{Node: n.Node, Total: pagesSize(n.Pages), Used: pagesSize(n.Pages - n.Free), Free: pagesSize(n.Free)})
	}
	for _, p := range snap.Procs {
		if p.Changing {
			s.Procs = append(s.Procs, processRow{Exe: "(changing)", State: "?"})
			continue
		}
		s.Procs = append(s.Procs, processRow{PID: p.PID, Exe: p.Exe, Threads: len(p.Threads), State: processState(p)})
	}
	s.Kmsg = tail(snap.Kmsg, kmsgTail)
	s.Syscall = in.Totals.LocalCalls + in.Totals.OffloadCalls
	return s
}

func pagesSize(n uint64) string { return formatSize(n * lwkabi.PageSize) }

// processState is ps's state of a process: that of its busiest thread
// (running before sleeping), Z once it exited and T while stopped.
func processState(p lwk.Process) string {
	switch {
	case p.Exited:
		return "Z"
	case p.Stopped:
		return "T"
	}
	state := "S"
	for _, t := range p.Threads {
		if t.State == "R" {
			return "R"
		}
		if t.State != "" && !t.Changing {
			state = t.State
		}
	}
	return state
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

type overview struct {
	Instances []summary
}

func overviewOf(ins []source.Instance) overview {
	var o overview
	for _, in := range ins {
		o.Instances = append(o.Instances, summaryOf(in))
	}
	return o
}

// instanceView is the instance page.
type instanceView struct {
	summary
	LocalRate, OffloadRate string // calls per second at the last poll
	Offloaded              []offloadRow
	Linux                  bool
	Interference           []interferenceRow
	Memory                 string // report.WriteMem
	AllocFails             uint64
	Charts                 map[string]template.HTML
}

// offloadRow is one offloaded syscall: the LWK's count and wait, and
// Linux's time executing it when the eBPF collectors run.
type offloadRow struct {
	Name                 string
	Calls                uint64
	Wait                 string
	LinuxCalls           uint64
	LinuxTime            string
	LocalCalls, LocalAvg string
}

// interferenceRow is one LWK CPU's time taken by Linux, per source.
type interferenceRow struct {
	CPU, HostCPU              int
	Task, IRQ, SoftIRQ, Total string
}

func instanceViewOf(in source.Instance, linux source.Linux) instanceView {
	v := instanceView{summary: summaryOf(in), Linux: linux != nil}
	if secs := in.Elapsed.Seconds(); secs > 0 {
		v.LocalRate = fmt.Sprintf("%.0f/s", float64(in.Rates.LocalCalls)/secs)
		v.OffloadRate = fmt.Sprintf("%.0f/s", float64(in.Rates.OffloadCalls)/secs)
	}
	var linuxTimes map[int]source.OffloadTime
	if linux != nil {
		linuxTimes = map[int]source.OffloadTime{}
		for _, o := range linux.Offload(in.Index) {
			linuxTimes[o.Nr] = o
		}
		v.Interference = interferenceRows(linux.Interference(in.Index))
	}
	for _, c := range topOffloaded(in.Totals.Syscalls, topSyscalls) {
		row := offloadRow{Name: syscallName(c), Calls: c.Offloaded.Calls, Wait: formatNs(c.Offloaded.Ns), LocalCalls: fmt.Sprint(c.Local.Calls)}
		if o, ok := linuxTimes[c.Nr]; ok {
			row.LinuxCalls, row.LinuxTime = o.Calls, formatNs(uint64(o.Seconds*1e9))
		}
		v.Offloaded = append(v.Offloaded, row)
	}
	if in.Snap != nil {
		var b strings.Builder
		report.WriteMem(&b, in.Snap)
		v.Memory = b.String()
		v.AllocFails = in.Snap.Alloc.Fails
	}
	return v
}

func syscallName(c stats.SyscallCount) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("syscall %d", c.Nr)
}

// topOffloaded are the n syscalls offloaded most, most first.
func topOffloaded(counts map[int]stats.SyscallCount, n int) []stats.SyscallCount {
	var out []stats.SyscallCount
	for _, c := range counts {
		if c.Offloaded.Calls > 0 {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b stats.SyscallCount) int {
		return cmp.Or(cmp.Compare(b.Offloaded.Calls, a.Offloaded.Calls), cmp.Compare(a.Nr, b.Nr))
	})
	return out[:min(n, len(out))]
}

func interferenceRows(in []source.Interference) []interferenceRow {
	type cpu struct {
		host    int
		seconds map[string]float64
	}
	byCPU := map[int]cpu{}
	for _, i := range in {
		c, ok := byCPU[i.CPU]
		if !ok {
			c = cpu{host: i.HostCPU, seconds: map[string]float64{}}
			byCPU[i.CPU] = c
		}
		c.seconds[i.Source] += i.Seconds
		c.seconds["total"] += i.Seconds
	}
	var out []interferenceRow
	for n, c := range byCPU {
		s := c.seconds
		out = append(out, interferenceRow{CPU: n, HostCPU: c.host, Task: seconds(s["task"]), IRQ: seconds(s["irq"]),
			SoftIRQ: seconds(s["softirq"]), Total: seconds(s["total"])})
	}
	slices.SortFunc(out, func(a, b interferenceRow) int { return cmp.Compare(a.CPU, b.CPU) })
	return out
}

func seconds(s float64) string { return formatNs(uint64(s * 1e9)) }

// processView is the process page.
type processView struct {
	Instance int
	Status   string
	Proc     *lwk.Process
	Header   []string
	Left     []bool
	Threads  [][]string // report's ps columns, as mcps prints them
	Maps     string     // report.WriteMaps
	Profile  []syscallRow
	Signals  []signalRow
}

type syscallRow struct {
	TID                    int
	Name                   string
	LocalCalls, OffCalls   uint64
	LocalTime, OffloadTime string
}

type signalRow struct {
	TID     int
	Pending string
	Names   string
}

func processViewOf(in source.Instance, pid int) (processView, error) {
	if in.Snap == nil {
		return processView{}, fmt.Errorf("instance %d is %s: %s", in.Index, in.Status, in.Reason)
	}
	var p *lwk.Process
	for i := range in.Snap.Procs {
		if in.Snap.Procs[i].PID == pid && !in.Snap.Procs[i].Changing {
			p = &in.Snap.Procs[i]
		}
	}
	if p == nil {
		return processView{}, fmt.Errorf("no LWK process %d in instance %d", pid, in.Index)
	}
	v := processView{Instance: in.Index, Status: in.Status, Proc: p}
	cols, err := report.ParseColumns(report.Default)
	if err != nil {
		return processView{}, err
	}
	for _, c := range cols {
		v.Header = append(v.Header, c.Name)
		v.Left = append(v.Left, c.Left)
	}
	for _, r := range report.Rows(in.Snap, pid) {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.Cell(r)
		}
		v.Threads = append(v.Threads, cells)
	}
	var maps strings.Builder
	report.WriteMaps(&maps, p)
	v.Maps = maps.String()
	for _, t := range p.Threads {
		for _, c := range t.Syscalls {
			v.Profile = append(v.Profile, syscallRow{TID: t.TID, Name: syscallName(c), LocalCalls: c.Local.Calls, OffCalls: c.Offloaded.Calls,
				LocalTime: formatNs(c.Local.Ns), OffloadTime: formatNs(c.Offloaded.Ns)})
		}
		v.Signals = append(v.Signals, signalRow{TID: t.TID, Pending: hex(t.Pending), Names: signalNames(t.Pending)})
	}
	return v, nil
}
