package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gomck/gomck/crash/monitor"
	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf/stat"
)

// Refresh bounds: the default poll period, and the shortest (10 Hz).
const (
	DefaultRefresh = time.Second
	MinRefresh     = 100 * time.Millisecond
)

// NotBooted is the Reason of an instance that is not booted.
const NotBooted = "no LWK instance is booted"

// What is what a poll reads of an instance: everything the views show.
var What = lwk.What{Syscalls: true, VMAs: true, Kmsg: true, Pending: true}

// Options say what a Poller watches.
type Options struct {
	// Instances are the indexes to watch; nil watches every booted
	// instance, as found at each poll.
	Instances []int
	// Refresh is the poll period: DefaultRefresh when 0, at least
	// MinRefresh.
	Refresh time.Duration
}

// Poller is the live Source: it reads every watched instance each
// Refresh, keeping a reader (target and layout) open per instance
// between polls, and reopening it when the instance reboots.
type Poller struct {
	opts   Options
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	latest  map[int]Instance
	order   []int
	updates chan struct{}
	paces   map[*pace]struct{}
	kick    chan struct{} // a faster pace was asked for

	readers map[int]*reader // the polling goroutine's only
}

// reader is one instance's open target and what the last poll counted.
type reader struct {
	tg       *inspect.Target
	l        *layout.Layout
	totals   stat.Sample
	snap     *lwk.Snapshot
	at       time.Time
	timeline []Tick
}

type pace struct{ every time.Duration }

// NewPoller polls once, then every Refresh until Close.
func NewPoller(o Options) (*Poller, error) {
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Refresh < MinRefresh {
		return nil, fmt.Errorf("refresh %v: at most 10 Hz (%v)", o.Refresh, MinRefresh)
	}
	for _, n := range o.Instances {
		if n < 0 {
			return nil, fmt.Errorf("instance %d: an index is 0 or more", n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{opts: o, cancel: cancel, done: make(chan struct{}), latest: map[int]Instance{},
		updates: make(chan struct{}), paces: map[*pace]struct{}{}, kick: make(chan struct{}, 1),
		readers: map[int]*reader{}}
	p.poll()
	go p.run(ctx)
	return p, nil
}

// Close stops polling and closes the readers.
func (p *Poller) Close() error {
	p.cancel()
	<-p.done
	for n, r := range p.readers {
		r.tg.Close()
		delete(p.readers, n)
	}
	return nil
}

func (p *Poller) run(ctx context.Context) {
	defer close(p.done)
	t := time.NewTimer(p.period())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-t.C:
			p.poll()
		}
		t.Reset(p.period())
	}
}

// period is Refresh, or the fastest pace a reader asked for.
func (p *Poller) period() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.opts.Refresh
	for pc := range p.paces {
		d = min(d, pc.every)
	}
	return d
}

// Pace has the poller poll at least every d (no faster than
// MinRefresh) until ctx ends: an SSE stream at 10 Hz needs 10 polls a
// second.
func (p *Poller) Pace(ctx context.Context, d time.Duration) {
	pc := &pace{max(d, MinRefresh)}
	p.mu.Lock()
	p.paces[pc] = struct{}{}
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		delete(p.paces, pc)
		p.mu.Unlock()
	})
}

// Instances implements Source.
func (p *Poller) Instances() []Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Instance, 0, len(p.order))
	for _, n := range p.order {
		out = append(out, p.latest[n])
	}
	return out
}

// Instance implements Source.
func (p *Poller) Instance(n int) (Instance, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.latest[n]
	return in, ok
}

// Updates implements Source.
func (p *Poller) Updates(context.Context) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.updates
}

// ReadOnly implements Source: a live instance takes actions.
func (p *Poller) ReadOnly() bool { return false }

// TargetOptions implements Targets: instance n's live daemon.
func (p *Poller) TargetOptions(n int) (inspect.Options, bool) {
	_, ok := p.Instance(n)
	return inspect.Options{Instance: n}, ok
}

// watched are the indexes to poll now.
func (p *Poller) watched() []int {
	if p.opts.Instances != nil {
		return p.opts.Instances
	}
	n := control.Booted()
	slices.Sort(n)
	return n
}

// poll reads every watched instance and publishes the results.
func (p *Poller) poll() {
	watched := p.watched()
	polled := make(map[int]Instance, len(watched))
	for _, n := range watched {
		polled[n] = p.pollOne(n)
	}
	for n, r := range p.readers {
		if _, ok := polled[n]; !ok {
			r.tg.Close()
			delete(p.readers, n)
		}
	}
	p.mu.Lock()
	p.latest, p.order = polled, watched
	close(p.updates)
	p.updates = make(chan struct{})
	p.mu.Unlock()
}

// pollOne reads instance n: its status, then its state through its
// reader, opened anew after a reboot.
func (p *Poller) pollOne(n int) Instance {
	in := Instance{Index: n, At: time.Now()}
	pid := control.DaemonPID(n)
	v, err := monitor.Status(n)
	switch {
	case err == nil:
		in.Status, in.Reason = v.State, v.Reason
	case pid == 0:
		in.Status, in.Reason = StatusDown, fmt.Sprintf("%s as mcos%d", NotBooted, n)
	default:
		in.Status, in.Reason = StatusDown, fmt.Sprintf("mcos%d: %v", n, err)
	}
	r := p.readers[n]
	if r != nil && (pid == 0 || r.tg.PID != pid) {
		// Gone or rebooted: a new daemon is another build, another
		// layout, counters from zero.
		r.tg.Close()
		delete(p.readers, n)
		r = nil
	}
	if pid == 0 {
		return in
	}
	if r == nil {
		tg, l, err := (&cli.Target{Options: inspect.Options{Instance: n}}).Open()
		if err != nil {
			in.Reason = join(in.Reason, err.Error())
			return in
		}
		r = &reader{tg: tg, l: l}
		p.readers[n] = r
	}
	snap, err := lwk.Read(r.tg, r.l, What)
	if err != nil {
		if errors.Is(err, inspect.ErrGone) {
			r.tg.Close()
			delete(p.readers, n)
		}
		in.Reason = join(in.Reason, err.Error())
		return in
	}
	in.Snap, in.Totals = snap, stat.InstanceTotals(snap)
	if !r.at.IsZero() {
		in.Elapsed = in.At.Sub(r.at)
		in.Rates = stat.Delta(r.totals, in.Totals, in.Elapsed)
		in.Previous = r.snap
	}
	r.totals, r.snap, r.at = in.Totals, snap, in.At
	r.timeline = appendTick(r.timeline, TickOf(snap, in.At))
	in.Timeline = r.timeline
	return in
}

// join adds why to a reason.
func join(reason, why string) string {
	if reason == "" {
		return why
	}
	return reason + "; " + why
}

// appendTick adds t, dropping the oldest beyond TimelineLen. The slice
// handed out is never written again: a full timeline is copied.
func appendTick(tl []Tick, t Tick) []Tick {
	if len(tl) < TimelineLen {
		return append(tl, t)
	}
	return append(slices.Clone(tl[len(tl)-TimelineLen+1:]), t)
}

// TickOf is which thread each CPU of s was running at.
func TickOf(s *lwk.Snapshot, at time.Time) Tick {
	owner := map[int]*lwk.Process{}
	for i := range s.Procs {
		for _, th := range s.Procs[i].Threads {
			owner[th.TID] = &s.Procs[i]
		}
	}
	t := Tick{At: at, CPUs: make([]CPUTick, 0, len(s.CPUs))}
	for _, c := range s.CPUs {
		ct := CPUTick{CPU: c.Index, TID: c.Current}
		if p := owner[c.Current]; p != nil && c.Current != 0 {
			ct.PID, ct.Comm = p.PID, filepath.Base(p.Exe)
		}
		t.CPUs = append(t.CPUs, ct)
	}
	return t
}
