package lwk

import (
	"fmt"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/value"
)

// Details are what the kernel holds of one process beyond a Snapshot:
// its signal state (crash's sig) and what each thread is blocked on
// (crash's bt says where the kernel was). They are read for one process
// at a time, on demand: a snapshot of every thread would read them for
// nothing.
type Details struct {
	PID     int             `json:"pid"`
	Pending uint64          `json:"pending"` // process-directed signals, bit sig-1
	Actions []SigAction     `json:"actions"` // signals 1 to 64
	Queued  []QueuedSignal  `json:"queued,omitempty"`
	Threads []ThreadDetails `json:"threads"`
}

// SigAction is the disposition of one signal, in the kernel's layout.
type SigAction struct {
	Sig      int    `json:"sig"`
	Handler  uint64 `json:"handler"` // 0 SIG_DFL, 1 SIG_IGN
	Flags    uint64 `json:"flags"`
	Restorer uint64 `json:"restorer"`
	Mask     uint64 `json:"mask"`
}

// QueuedSignal is a further instance of a real-time signal already
// pending, for a thread (TID) or the process (TID 0).
type QueuedSignal struct {
	Sig int `json:"sig"`
	TID int `json:"tid"`
}

// ThreadDetails are one thread's signal masks and wait.
type ThreadDetails struct {
	TID     int    `json:"tid"`
	Blocked uint64 `json:"blocked"`
	Pending uint64 `json:"pending"`
	// WaitSet is the set rt_sigtimedwait waits for.
	WaitSet uint64 `json:"wait_set,omitempty"`
	// Futex is the futex key waited on while InFutex.
	InFutex bool   `json:"in_futex"`
	Futex   uint64 `json:"futex,omitempty"`
	// Deadline is when the wait gives up, CLOCK_MONOTONIC ns, 0 never.
	Deadline  int64 `json:"deadline_ns,omitempty"`
	WaitChild bool  `json:"wait_child,omitempty"`
	// OffloadSeq is the IKC sequence number of the offloaded call
	// waited for, 0 when none.
	OffloadSeq uint64 `json:"offload_seq,omitempty"`
	Changing   bool   `json:"changing,omitempty"`
}

// detailFields are what ReadDetails reads of a thread record.
var detailFields = []string{"TID", "SigMask", "Pending", "WaitSet", "Waiting", "FutexBlocked", "FutexKey",
	"Deadline", "WaitChild", "OffloadSeq"}

// ReadDetails reads the details of process pid from t with layout l.
func ReadDetails(t *inspect.Target, l *layout.Layout, pid int) (*Details, error) {
	r := &value.Reader{Mem: t.Mem, Layout: l, Bias: t.Bias, Tries: 1}
	if t.Live {
		r.Tries = Tries
	}
	inst := r.Var(InstanceVar)
	if inst.Nil() {
		return nil, fmt.Errorf("%s: the instance is not booted (kernel.Instance is nil)", t.Source)
	}
	var procs []value.Value
	if err := r.Stable(inst.Deref().Field("Procs").Deref(), func(tb value.Value) { procs = tb.Field("Procs").Elems() }); err != nil {
		return nil, fmt.Errorf("%s: process table: %w", t.Source, err)
	}
	for _, ptr := range procs {
		p := ptr.Deref()
		if int(p.Field("PID").Int()) != pid {
			continue
		}
		if err := r.Take(); err != nil {
			return nil, fmt.Errorf("%s: pid %d: %w", t.Source, pid, err)
		}
		return readDetails(r, p, pid)
	}
	if err := r.Take(); err != nil {
		return nil, fmt.Errorf("%s: process table: %w", t.Source, err)
	}
	return nil, fmt.Errorf("no LWK process %d in %s", pid, t.Source)
}

func readDetails(r *value.Reader, p value.Value, pid int) (*Details, error) {
	d := &Details{PID: pid}
	var threads []value.Value
	err := r.Stable(p, func(v value.Value) {
		d.Pending = v.Field("Pending").Uint()
		d.Actions = d.Actions[:0]
		for i, a := range v.Field("SigActs").Elems() {
			if i == 0 {
				continue // signals are numbered from 1
			}
			d.Actions = append(d.Actions, SigAction{Sig: i, Handler: a.Field("Handler").Uint(), Flags: a.Field("Flags").Uint(),
				Restorer: a.Field("Restorer").Uint(), Mask: a.Field("Mask").Uint()})
		}
		d.Queued = d.Queued[:0]
		for _, q := range v.Field("Queued").Elems() {
			d.Queued = append(d.Queued, QueuedSignal{Sig: int(q.Field("Sig").Int()), TID: int(q.Field("TID").Int())})
		}
		threads = v.Field("Threads").Elems()
	}, "PID", "Pending", "SigActs", "Queued", "Threads")
	if err != nil {
		return nil, fmt.Errorf("pid %d: process record: %w", pid, err)
	}
	recs := make([]value.Value, len(threads))
	for i, t := range threads {
		recs[i] = t.Deref()
	}
	d.Threads = make([]ThreadDetails, len(recs))
	errs := r.StableAll(recs, func(i int, v value.Value) {
		d.Threads[i] = ThreadDetails{TID: int(v.Field("TID").Int()), Blocked: v.Field("SigMask").Uint(),
			Pending: v.Field("Pending").Uint(), WaitSet: v.Field("WaitSet").Uint(),
			InFutex: v.Field("Waiting").Bool() || v.Field("FutexBlocked").Bool(), Futex: v.Field("FutexKey").Uint(),
			Deadline: v.Field("Deadline").Int(), WaitChild: v.Field("WaitChild").Bool(), OffloadSeq: v.Field("OffloadSeq").Uint()}
	}, detailFields...)
	for i, err := range errs {
		if err != nil {
			d.Threads[i] = ThreadDetails{Changing: true}
		}
	}
	return d, nil
}

// Thread returns the details of thread tid, or nil.
func (d *Details) Thread(tid int) *ThreadDetails {
	for i := range d.Threads {
		if d.Threads[i].TID == tid {
			return &d.Threads[i]
		}
	}
	return nil
}
