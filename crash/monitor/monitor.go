package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomck/gomck/crash/capture"
	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/delegator/control"
)

// DefaultTimeout is how long an instance may miss heartbeats before it is
// HUNGUP.
const DefaultTimeout = 3 * time.Second

// States a monitor gives an instance (IHK's names).
const (
	Running = "RUNNING"
	Hungup  = "HUNGUP"
	Panic   = "PANIC"
)

// Options say what to watch and where dumps go.
type Options struct {
	Instance int
	Timeout  time.Duration // DefaultTimeout when 0
	Level    int           // of the dumps taken of a hung instance
	DumpDir  string        // capture.DumpDir() when ""
	Log      io.Writer     // os.Stderr when nil
}

type monitor struct {
	o       Options
	daemon  int
	verdict control.Monitor
	journal *syslog.Writer // nil without one
}

// Run watches instance o.Instance until its daemon ends.
func Run(o Options) error {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DumpDir == "" {
		o.DumpDir = capture.DumpDir()
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	m := &monitor{o: o, daemon: control.DaemonPID(o.Instance)}
	if m.daemon == 0 {
		return fmt.Errorf("instance %d: %w", o.Instance, control.ErrNoInstance)
	}
	m.journal, _ = syslog.New(syslog.LOG_DAEMON|syslog.LOG_WARNING, "ihkmond")
	if m.journal != nil {
		defer m.journal.Close()
	}
	m.set(Running, "", "")
	return m.watch()
}

func (m *monitor) watch() error {
	var beats uint64
	lastBeat := time.Now()
	for {
		time.Sleep(control.HeartbeatInterval)
		hb, err := control.ReadHeartbeat(m.o.Instance)
		if err == nil && hb.PID == m.daemon && hb.Beats != beats {
			beats, lastBeat = hb.Beats, time.Now()
		}
		switch {
		case !alive(m.daemon):
			return m.ended(hb, err)
		case hb.State == Panic:
			if m.verdict.State != Panic {
				m.set(Panic, hb.Reason, "the daemon is dumping itself")
			}
		case time.Since(lastBeat) >= m.o.Timeout:
			m.hung(fmt.Sprintf("no heartbeat for %.1f s", time.Since(lastBeat).Seconds()))
		case stalled(hb) >= m.o.Timeout:
			m.hung(fmt.Sprintf("CPU %d stuck in the kernel for %.1f s", hb.Stalled[0].CPU, stalled(hb).Seconds()))
		case m.verdict.State == Hungup:
			m.set(Running, "resumed", "")
		}
	}
}

// stalled is the longest stall of a beat.
func stalled(hb control.Heartbeat) time.Duration {
	var d time.Duration
	for _, s := range hb.Stalled {
		d = max(d, time.Duration(s.Ns))
	}
	return d
}

// ended reports the daemon's end: a shutdown ends the monitor quietly, a
// panic is recorded with the dump the daemon took.
func (m *monitor) ended(hb control.Heartbeat, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist) || err == nil && hb.State == "SHUTDOWN":
		os.Remove(control.MonitorPath(m.o.Instance))
		return nil
	case err == nil && hb.State == Panic:
		m.verdict.Dump = hb.Dump
		if hb.Dump == "" {
			m.set(Panic, hb.Reason, "the daemon could not dump itself")
			return nil
		}
		m.set(Panic, hb.Reason, "dump "+hb.Dump+m.writeKmsg(hb.Dump))
		return nil
	}
	// A fatal runtime error (not a panic: out of memory, a concurrent map
	// write) ends the daemon at once; its log says which.
	m.set(Panic, fmt.Sprintf("daemon %d ended without a shutdown or a panic: %s", m.daemon, m.lastWords()), "no dump")
	return nil
}

// lastWords is the fatal error in the daemon's log, or a guess.
func (m *monitor) lastWords() string {
	b, _ := os.ReadFile(control.LogPath(m.o.Instance))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") {
			return l
		}
	}
	return "killed?"
}

// hung marks the instance HUNGUP and dumps it, once per hang.
func (m *monitor) hung(why string) {
	if m.verdict.State == Hungup {
		return
	}
	m.set(Hungup, why, "dumping")
	if err := os.MkdirAll(m.o.DumpDir, 0o700); err != nil {
		m.set(Hungup, why, fmt.Sprintf("no dump: %v", err))
		return
	}
	path := filepath.Join(m.o.DumpDir, capture.DefaultPath(m.o.Instance, time.Now()))
	res, err := capture.Capture(capture.Options{Instance: m.o.Instance, Level: m.o.Level, Path: path, Reason: "hung: " + why})
	if err != nil {
		m.set(Hungup, why, fmt.Sprintf("no dump: %v", err))
		return
	}
	m.verdict.Dump = res.Path
	m.set(Hungup, why, fmt.Sprintf("dump %s (level %d, %d bytes, %v)%s", res.Path, m.o.Level, res.Size,
		res.Elapsed.Round(time.Millisecond), m.writeKmsg(res.Path)))
}

// writeKmsg writes the kmsg of dump beside it and says where, or why not.
func (m *monitor) writeKmsg(dump string) string {
	d, err := dumpfile.Open(dump)
	if err != nil {
		return fmt.Sprintf("; no kmsg: %v", err)
	}
	defer d.Close()
	kmsg := dump + ".kmsg"
	if err := os.WriteFile(kmsg, []byte(d.Kmsg), 0o600); err != nil {
		return fmt.Sprintf("; no kmsg: %v", err)
	}
	m.verdict.Kmsg = kmsg
	return ", kmsg " + kmsg
}

// set records a verdict for ihkosctl status and says it.
func (m *monitor) set(state, reason, detail string) {
	if state != m.verdict.State {
		m.verdict.Since = time.Now().UnixNano()
	}
	if state == Running {
		m.verdict.Dump, m.verdict.Kmsg = "", ""
	}
	m.verdict.PID, m.verdict.State, m.verdict.Reason = os.Getpid(), state, reason
	if err := control.WriteMonitor(m.o.Instance, m.verdict); err != nil {
		fmt.Fprintf(m.o.Log, "ihkmond: mcos%d: %v\n", m.o.Instance, err)
	}
	msg := fmt.Sprintf("mcos%d: %s", m.o.Instance, state)
	for _, s := range []string{reason, detail} {
		if s != "" {
			msg += ": " + s
		}
	}
	fmt.Fprintf(m.o.Log, "%s ihkmond: %s\n", time.Now().Format(time.RFC3339), msg)
	switch {
	case m.journal == nil:
	case state == Running:
		m.journal.Info(msg)
	default:
		m.journal.Err(msg)
	}
}

// alive reports whether pid runs: a zombie does not, and one may stay a
// while where PID 1 is slow to reap.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}
