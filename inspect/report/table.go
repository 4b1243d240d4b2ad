package report

import (
	"io"
	"slices"
	"strings"

	"github.com/gomck/gomck/inspect/lwk"
)

// Row is one line: a thread, or an idle or unreadable CPU.
type Row struct {
	CPU      lwk.CPU
	T        *lwk.Thread  // nil on an idle row
	P        *lwk.Process // the thread's process
	Current  bool         // the thread (or idle) is current on CPU
	Idle     bool
	MemTotal uint64
}

func (r Row) threadKnown() bool { return r.T != nil && !r.T.Changing }
func (r Row) procKnown() bool   { return r.P != nil && !r.P.Changing }
func (r Row) memKnown() bool    { return r.procKnown() && !r.P.MMChanging }

func (r Row) pmem() float64 {
	if !r.memKnown() || r.MemTotal == 0 {
		return 0
	}
	return 100 * float64(r.P.RSS) / float64(r.MemTotal)
}

// Rows lists the threads of s by LWK CPU, the current one first; pid > 0
// keeps only that process's threads (and no idle rows).
func Rows(s *lwk.Snapshot, pid int) []Row {
	byCPU := map[int][]Row{}
	for i := range s.Procs {
		p := &s.Procs[i]
		if pid > 0 && p.PID != pid {
			continue
		}
		for j := range p.Threads {
			t := &p.Threads[j]
			byCPU[t.CPU] = append(byCPU[t.CPU], Row{T: t, P: p, Current: t.Current, MemTotal: s.MemTotal})
		}
	}
	var out []Row
	seen := map[int]bool{}
	for _, c := range s.CPUs {
		seen[c.Index] = true
		rows := byCPU[c.Index]
		slices.SortStableFunc(rows, func(a, b Row) int {
			if a.Current != b.Current {
				if a.Current {
					return -1
				}
				return 1
			}
			return a.T.TID - b.T.TID
		})
		if pid <= 0 && c.Current == 0 {
			out = append(out, Row{CPU: c, Current: !c.Changing, Idle: !c.Changing})
		}
		for _, r := range rows {
			r.CPU = c
			out = append(out, r)
		}
	}
	// Threads whose CPU record was not read (changing) still show.
	for cpu, rows := range byCPU {
		if !seen[cpu] {
			for _, r := range rows {
				r.CPU = lwk.CPU{Index: cpu}
				out = append(out, r)
			}
		}
	}
	// A process whose record kept changing has no threads to show, yet it
	// is there: a row says so rather than leave it out.
	for i := range s.Procs {
		if p := &s.Procs[i]; p.Changing && pid <= 0 {
			out = append(out, Row{CPU: lwk.CPU{Index: -1}, T: &lwk.Thread{Changing: true}, P: p, MemTotal: s.MemTotal})
		}
	}
	return out
}

// Write prints rows as a table: numbers right-aligned, text left, as ps.
func Write(w io.Writer, rows []Row, cols []*Column) error {
	cells := [][]string{make([]string, len(cols))}
	for i, c := range cols {
		cells[0][i] = c.Name
	}
	for _, r := range rows {
		line := make([]string, len(cols))
		for i, c := range cols {
			line[i] = c.Cell(r)
		}
		cells = append(cells, line)
	}
	width := make([]int, len(cols))
	for _, line := range cells {
		for i, s := range line {
			width[i] = max(width[i], len(s))
		}
	}
	var b strings.Builder
	for _, line := range cells {
		for i, s := range line {
			pad := strings.Repeat(" ", width[i]-len(s))
			switch {
			case !cols[i].Left:
				b.WriteString(pad + s)
			case i < len(cols)-1:
				b.WriteString(s + pad)
			default:
				b.WriteString(s)
			}
			if i < len(cols)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON returns rows as objects keyed by column, for --json.
func JSON(rows []Row, cols []*Column) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		m := map[string]any{"current": r.Current}
		if r.Idle {
			m["idle"] = true
		}
		if r.T != nil && r.T.Changing || r.P != nil && r.P.Changing || r.CPU.Changing {
			m["changing"] = true
		}
		for _, c := range cols {
			if r.T != nil || c.rowLevel() {
				m[c.Key] = c.value(r)
			}
		}
		out = append(out, m)
	}
	return out
}
