package report

import (
	"fmt"
	"strings"
)

// Column is one ps column.
type Column struct {
	Name    string // header
	Key     string // JSON key
	Left    bool   // left-aligned
	aliases []string
	text    func(Row) string
	value   func(Row) any
}

// Columns are every column, in default order.
var Columns = []*Column{
	{Name: "CPU", Key: "cpu", text: func(r Row) string { return mark(r) + intOr(r.CPU.Index >= 0, r.CPU.Index) }, value: func(r Row) any { return r.CPU.Index }},
	{Name: "TID", Key: "tid", text: func(r Row) string { return intOr(r.threadKnown(), r.T.TID) }, value: func(r Row) any { return r.T.TID }},
	{Name: "PID", Key: "pid", text: func(r Row) string { return intOr(r.threadKnown() && r.P.PID != 0, r.P.PID) }, value: func(r Row) any { return r.P.PID }},
	{Name: "PPID", Key: "ppid", text: func(r Row) string { return intOr(r.procKnown(), r.P.PPID) }, value: func(r Row) any { return r.P.PPID }},
	{Name: "ST", Key: "state", aliases: []string{"s", "stat", "state"}, Left: true, text: func(r Row) string {
		if !r.threadKnown() {
			return "?"
		}
		return r.T.State
	}, value: func(r Row) any { return r.T.State }},
	{Name: "RSS", Key: "rss_kib", aliases: []string{"rssize"}, text: func(r Row) string { return intOr(r.memKnown(), int(r.P.RSS/1024)) }, value: func(r Row) any { return r.P.RSS / 1024 }},
	{Name: "VSZ", Key: "vsz_kib", aliases: []string{"vsize"}, text: func(r Row) string { return intOr(r.memKnown(), int(r.P.VSZ/1024)) }, value: func(r Row) any { return r.P.VSZ / 1024 }},
	{Name: "%MEM", Key: "pmem", aliases: []string{"pmem"}, text: func(r Row) string {
		if !r.memKnown() {
			return "-"
		}
		return fmt.Sprintf("%.1f", r.pmem())
	}, value: func(r Row) any { return r.pmem() }},
	{Name: "TIME", Key: "time_ns", aliases: []string{"cputime"}, text: func(r Row) string {
		if !r.threadKnown() {
			return "-"
		}
		return cpuTime(r.T.RunNs)
	}, value: func(r Row) any { return r.T.RunNs }},
	{Name: "LOCAL", Key: "syscalls_local", text: func(r Row) string { return uintOr(r.threadKnown(), r.T.LocalCalls) }, value: func(r Row) any { return r.T.LocalCalls }},
	{Name: "OFFLOAD", Key: "syscalls_offloaded", aliases: []string{"offl"}, text: func(r Row) string { return uintOr(r.threadKnown(), r.T.OffloadCalls) }, value: func(r Row) any { return r.T.OffloadCalls }},
	{Name: "MINFL", Key: "page_faults", aliases: []string{"min_flt", "minflt"}, text: func(r Row) string { return uintOr(r.threadKnown(), r.T.PageFaults) }, value: func(r Row) any { return r.T.PageFaults }},
	{Name: "CSW", Key: "context_switches", aliases: []string{"nvcsw"}, text: func(r Row) string { return uintOr(r.threadKnown(), r.T.Switches) }, value: func(r Row) any { return r.T.Switches }},
	{Name: "MIGR", Key: "migrations", text: func(r Row) string { return uintOr(r.threadKnown(), r.T.Migrations) }, value: func(r Row) any { return r.T.Migrations }},
	{Name: "SYSCALL", Key: "syscall", aliases: []string{"wchan", "sc"}, Left: true, text: syscallText, value: func(r Row) any { return syscallText(r) }},
	{Name: "EXE", Key: "exe", aliases: []string{"comm", "cmd", "command", "args"}, Left: true, text: exeText, value: func(r Row) any { return exeText(r) }},
}

// rowLevel says the column has a value on a row without a thread (an
// idle or unreadable CPU).
func (c *Column) rowLevel() bool { return c.Key == "cpu" || c.Key == "exe" }

// Cell is the column's text on row r, as Write prints it.
func (c *Column) Cell(r Row) string {
	if r.T == nil && !c.rowLevel() {
		return "-"
	}
	return c.text(r)
}

// McKernel is mcinspect --ps's column set.
const McKernel = "cpu,tid,pid,st,exe"

// Default is mcps's column set: every column.
const Default = "cpu,tid,pid,ppid,st,rss,vsz,%mem,time,local,offload,syscall,exe"

// ParseColumns reads a ps -o list: names separated by commas or spaces,
// case-insensitive, optionally "name=HEADER" to rename a column as ps does.
func ParseColumns(spec string) ([]*Column, error) {
	var out []*Column
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		name, header, renamed := strings.Cut(f, "=")
		c := find(strings.ToLower(name))
		if c == nil {
			return nil, fmt.Errorf("unknown column %q (have %s)", name, names())
		}
		if renamed {
			cp := *c
			cp.Name = header
			c = &cp
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no columns in %q", spec)
	}
	return out, nil
}

func find(name string) *Column {
	for _, c := range Columns {
		if strings.ToLower(c.Name) == name || c.Key == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

func names() string {
	var n []string
	for _, c := range Columns {
		n = append(n, strings.ToLower(c.Name))
	}
	return strings.Join(n, ",")
}

func intOr(known bool, n int) string {
	if !known {
		return "?"
	}
	return fmt.Sprint(n)
}

func uintOr(known bool, n uint64) string {
	if !known {
		return "?"
	}
	return fmt.Sprint(n)
}

// cpuTime is top's TIME+: minutes:seconds.hundredths.
func cpuTime(ns uint64) string {
	cs := ns / 1e7
	return fmt.Sprintf("%d:%02d.%02d", cs/6000, cs/100%60, cs%100)
}

func mark(r Row) string {
	if r.Current {
		return ">"
	}
	return ""
}

func syscallText(r Row) string {
	switch {
	case r.Idle || !r.threadKnown() || r.T.Syscall < 0:
		return "-"
	case r.T.SyscallName != "":
		return r.T.SyscallName
	}
	return fmt.Sprint(r.T.Syscall)
}

func exeText(r Row) string {
	switch {
	case r.Idle:
		return "(idle)"
	case r.CPU.Changing && r.T == nil:
		return "(changing)"
	case !r.procKnown() || !r.threadKnown():
		return "(changing)"
	}
	return r.P.Exe
}
