package api

import (
	"math/bits"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/inspect/report"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/web/source"
)

// Summary is one instance in a few numbers: the instances list and
// each SSE event.
type Summary struct {
	Index     int       `json:"instance"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
	DaemonPID int       `json:"daemon_pid,omitempty"`
	// CPUs are the LWK CPUs and the thread each runs (0: idle).
	CPUs []CPUSummary `json:"cpus"`
	// LocalRate and OffloadRate are system calls a second since the
	// previous poll.
	LocalRate   float64 `json:"syscalls_local_per_s"`
	OffloadRate float64 `json:"syscalls_offloaded_per_s"`
	MemTotal    uint64  `json:"mem_total_bytes"`
	MemUsed     uint64  `json:"mem_used_bytes"`
	MemFree     uint64  `json:"mem_free_bytes"`
	Processes   int     `json:"processes"`
	Threads     int     `json:"threads"`
}

// CPUSummary is one LWK CPU in a Summary.
type CPUSummary struct {
	CPU     int `json:"cpu"`
	HostCPU int `json:"host_cpu"`
	TID     int `json:"tid"`
}

// Detail is instances/N: the summary and the instance's own records.
type Detail struct {
	Summary
	BootTime   time.Time     `json:"boot_time"`
	Elapsed    float64       `json:"elapsed_s"` // since the previous poll
	CPURecords []lwk.CPU     `json:"cpu_records"`
	Memory     Memory        `json:"memory"`
	Stats      lwk.Stats     `json:"stats"`
	Timeline   []source.Tick `json:"timeline"`
	Errors     []string      `json:"errors,omitempty"`
}

// Memory is the page allocator, per NUMA node.
type Memory struct {
	PageSize    uint64     `json:"page_size"`
	Pages       uint64     `json:"pages"`
	FreePages   uint64     `json:"free_pages"`
	LargestFree uint64     `json:"largest_free_run_pages"`
	FreeRuns    int        `json:"free_runs"`
	Allocs      uint64     `json:"allocs"`
	Fails       uint64     `json:"fails"`
	Nodes       []lwk.Node `json:"nodes"`
	Changing    bool       `json:"changing,omitempty"`
}

// ProcessSummary is one process in instances/N/processes.
type ProcessSummary struct {
	PID      int       `json:"pid"`
	PPID     int       `json:"ppid"`
	Exe      string    `json:"exe"`
	Args     []string  `json:"args"`
	ProxyPID int       `json:"mcexec_pid"`
	Threads  int       `json:"thread_count"`
	RSS      uint64    `json:"rss_bytes"`
	VSZ      uint64    `json:"vsz_bytes"`
	Start    time.Time `json:"start"`
	State    string    `json:"state"` // running, stopped, exited
	Changing bool      `json:"changing,omitempty"`
}

// Process is instances/N/processes/PID.
type Process struct {
	ProcessSummary
	Threads  []map[string]any `json:"threads"` // as mcps --json
	VMAs     []VMA            `json:"vmas"`
	Syscalls []Syscall        `json:"syscalls"`
	Signals  []ThreadSignals  `json:"signals"`
}

// VMA is one mapping, as mcinspect --maps prints it.
type VMA struct {
	Start     uint64 `json:"start"`
	End       uint64 `json:"end"`
	Perms     string `json:"perms"`
	Flags     string `json:"flags"`
	Offset    uint64 `json:"offset"`
	Populated uint64 `json:"populated_bytes"`
	Segments  int    `json:"segments"`
	Name      string `json:"name"`
}

// Syscall is one system call's counts in a profile.
type Syscall struct {
	Nr           int    `json:"nr"`
	Name         string `json:"name"`
	LocalCalls   uint64 `json:"local_calls"`
	LocalNs      uint64 `json:"local_ns"`
	OffloadCalls uint64 `json:"offloaded_calls"`
	OffloadNs    uint64 `json:"offloaded_ns"`
}

// ThreadSignals are the signals pending for one thread.
type ThreadSignals struct {
	TID       int      `json:"tid"`
	Pending   []string `json:"pending"`
	Delivered uint64   `json:"delivered"`
}

// lookup is the latest poll of instance n, 404 when not watched.
func (a *api) lookup(n int) (source.Instance, error) {
	in, ok := a.src.Instance(n)
	if !ok {
		return in, errorf(http.StatusNotFound, "instance %d is not watched (watched: %s)", n, a.watched())
	}
	return in, nil
}

func (a *api) watched() string {
	var s string
	for i, in := range a.src.Instances() {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(in.Index)
	}
	if s == "" {
		return "none: " + source.NotBooted
	}
	return s
}

// snapshot is instance n's latest snapshot, 503 when it could not be read.
func (a *api) snapshot(n int) (source.Instance, *lwk.Snapshot, error) {
	in, err := a.lookup(n)
	if err != nil {
		return in, nil, err
	}
	if in.Snap == nil {
		return in, nil, errorf(http.StatusServiceUnavailable, "instance %d is %s: %s", n, in.Status, in.Reason)
	}
	return in, in.Snap, nil
}

// summarize is in's Summary.
func summarize(in source.Instance) Summary {
	s := Summary{Index: in.Index, Status: in.Status, Reason: in.Reason, At: in.At, CPUs: []CPUSummary{}}
	if in.Snap == nil {
		return s
	}
	snap := in.Snap
	s.DaemonPID = snap.DaemonPID
	for _, c := range snap.CPUs {
		s.CPUs = append(s.CPUs, CPUSummary{CPU: c.Index, HostCPU: c.Host, TID: c.Current})
	}
	if secs := in.Elapsed.Seconds(); secs > 0 {
		s.LocalRate = float64(in.Rates.LocalCalls) / secs
		s.OffloadRate = float64(in.Rates.OffloadCalls) / secs
	}
	pageSize := pageSize(snap)
	s.MemTotal = snap.Alloc.Pages * pageSize
	s.MemFree = snap.Alloc.Free * pageSize
	s.MemUsed = s.MemTotal - s.MemFree
	s.Processes = len(snap.Procs)
	for _, p := range snap.Procs {
		s.Threads += len(p.Threads)
	}
	return s
}

// pageSize is the partition's page size, as the allocator counts pages.
func pageSize(s *lwk.Snapshot) uint64 {
	if s.Alloc.Pages == 0 || s.MemTotal == 0 {
		return uint64(unix.Getpagesize())
	}
	return s.MemTotal / s.Alloc.Pages
}

func (a *api) instances(w http.ResponseWriter, _ *http.Request, _ params) error {
	out := []Summary{}
	for _, in := range a.src.Instances() {
		out = append(out, summarize(in))
	}
	resp := struct {
		Instances []Summary `json:"instances"`
		ReadOnly  bool      `json:"read_only"`
		Message   string    `json:"message,omitempty"`
	}{Instances: out, ReadOnly: a.src.ReadOnly()}
	if len(out) == 0 {
		resp.Message = source.NotBooted + ": waiting for one"
	}
	return writeJSON(w, resp)
}

func (a *api) instance(w http.ResponseWriter, _ *http.Request, p params) error {
	in, err := a.lookup(p.n)
	if err != nil {
		return err
	}
	d := Detail{Summary: summarize(in), Elapsed: in.Elapsed.Seconds(), CPURecords: []lwk.CPU{}, Timeline: in.Timeline}
	if s := in.Snap; s != nil {
		d.BootTime, d.CPURecords, d.Stats, d.Errors = time.Unix(0, s.BootTime), s.CPUs, s.Stats, s.Errors
		al := s.Alloc
		d.Memory = Memory{PageSize: pageSize(s), Pages: al.Pages, FreePages: al.Free, LargestFree: al.Largest,
			FreeRuns: al.Runs, Allocs: al.Allocs, Fails: al.Fails, Nodes: al.Nodes, Changing: al.Changing}
	}
	if d.Timeline == nil {
		d.Timeline = []source.Tick{}
	}
	return writeJSON(w, d)
}

func processSummary(p *lwk.Process) ProcessSummary {
	st := "running"
	switch {
	case p.Exited:
		st = "exited"
	case p.Stopped:
		st = "stopped"
	}
	args := p.Args
	if args == nil {
		args = []string{}
	}
	return ProcessSummary{PID: p.PID, PPID: p.PPID, Exe: p.Exe, Args: args, ProxyPID: p.ProxyPID,
		Threads: len(p.Threads), RSS: p.RSS, VSZ: p.VSZ, Start: time.Unix(0, p.Start), State: st, Changing: p.Changing}
}

func (a *api) processes(w http.ResponseWriter, _ *http.Request, p params) error {
	_, s, err := a.snapshot(p.n)
	if err != nil {
		return err
	}
	out := []ProcessSummary{}
	for i := range s.Procs {
		out = append(out, processSummary(&s.Procs[i]))
	}
	return writeJSON(w, struct {
		Processes []ProcessSummary `json:"processes"`
	}{out})
}

// findProcess is process pid of instance n, 404 when there is none.
func (a *api) findProcess(p params) (*lwk.Snapshot, *lwk.Process, error) {
	_, s, err := a.snapshot(p.n)
	if err != nil {
		return nil, nil, err
	}
	proc, err := s.Process(p.pid)
	if err != nil {
		return nil, nil, errorf(http.StatusNotFound, "instance %d: %v", p.n, err)
	}
	return s, proc, nil
}

// threadRows are pid's threads as mcps --json -p PID -o (every column).
func threadRows(s *lwk.Snapshot, pid int) []map[string]any {
	rows := report.JSON(report.Rows(s, pid), report.Columns)
	if rows == nil {
		rows = []map[string]any{}
	}
	return rows
}

func (a *api) process(w http.ResponseWriter, _ *http.Request, p params) error {
	s, proc, err := a.findProcess(p)
	if err != nil {
		return err
	}
	out := Process{ProcessSummary: processSummary(proc), Threads: threadRows(s, p.pid), VMAs: []VMA{},
		Syscalls: profile(proc), Signals: []ThreadSignals{}}
	for _, v := range proc.VMAs {
		name := v.Name
		if name == "" {
			name = v.Kind
		}
		out.VMAs = append(out.VMAs, VMA{Start: v.Start, End: v.End, Perms: report.Perms(v), Flags: report.Flags(v),
			Offset: v.FileOff, Populated: v.Populated(), Segments: len(v.Segs), Name: name})
	}
	for _, t := range proc.Threads {
		out.Signals = append(out.Signals, ThreadSignals{TID: t.TID, Pending: signalNames(t.Pending), Delivered: t.Signals})
	}
	return writeJSON(w, out)
}

// profile sums the process's threads' per-syscall counts.
func profile(p *lwk.Process) []Syscall {
	sum := map[int]stats.SyscallCount{}
	var order []int
	for _, t := range p.Threads {
		for _, c := range t.Syscalls {
			if _, ok := sum[c.Nr]; !ok {
				order = append(order, c.Nr)
			}
			sum[c.Nr] = sum[c.Nr].Zip(c, stats.Sum)
		}
	}
	out := []Syscall{}
	for _, nr := range order {
		c := sum[nr]
		out = append(out, Syscall{Nr: nr, Name: c.Name, LocalCalls: c.Local.Calls, LocalNs: c.Local.Ns,
			OffloadCalls: c.Offloaded.Calls, OffloadNs: c.Offloaded.Ns})
	}
	return out
}

// signalNames names the signals of a pending mask (bit sig-1).
func signalNames(mask uint64) []string {
	out := []string{}
	for mask != 0 {
		sig := bits.TrailingZeros64(mask) + 1
		mask &^= 1 << (sig - 1)
		name := unix.SignalName(unix.Signal(sig))
		if name == "" {
			name = "SIG" + strconv.Itoa(sig)
		}
		out = append(out, name)
	}
	return out
}

func (a *api) threads(w http.ResponseWriter, _ *http.Request, p params) error {
	s, _, err := a.findProcess(p)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		Threads []map[string]any `json:"threads"`
	}{threadRows(s, p.pid)})
}

// Kmsg is instances/N/kmsg: what the ring took after the cursor.
type Kmsg struct {
	Text string `json:"text"`
	// Next is the cursor to ask with next time (?since=NEXT).
	Next uint64 `json:"next"`
	// Lost says some text after the cursor was overwritten (or the ring
	// was cleared, or the instance rebooted) before it was read.
	Lost bool `json:"lost,omitempty"`
}

func (a *api) kmsg(w http.ResponseWriter, r *http.Request, p params) error {
	var since uint64
	if q := r.URL.Query().Get("since"); q != "" {
		v, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			return errorf(http.StatusBadRequest, "since=%q: want the cursor a previous answer gave as next", q)
		}
		since = v
	}
	_, s, err := a.snapshot(p.n)
	if err != nil {
		return err
	}
	return writeJSON(w, kmsgSince(s.Kmsg, s.KmsgHead, since))
}

// kmsgSince is the text after cursor since of a ring whose text ends at
// head.
func kmsgSince(text string, head, since uint64) Kmsg {
	k := Kmsg{Text: text, Next: head}
	switch {
	case since > head:
		k.Lost = true // cleared or rebooted: all of it is new
	case head-since <= uint64(len(text)):
		k.Text = text[uint64(len(text))-(head-since):]
	default:
		k.Lost = since > 0
	}
	return k
}
