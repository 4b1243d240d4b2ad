package kernel

import (
	"fmt"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/task"
)

// A session is a child proxy's connection, which it keeps across the
// forked processes it serves (mcexec/fork.go). Between two of them it
// holds the IKC channel of the last one, reset, for the next fork handed
// to that proxy: the proxy keeps it mapped, and the daemon neither
// creates a channel nor unmaps one, which took about 160 µs of a fork
// here (the unmap interrupts every CPU the daemon runs on).
type session struct {
	conn *control.Conn
	idle *ikc.Channel // nil while a process uses it
}

// openSession records c as the connection of child proxy pid.
func (k *OS) openSession(pid int, c *control.Conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.sessions[pid]; s != nil && s.conn == c {
		return
	}
	if k.sessions == nil {
		k.sessions = map[int]*session{}
	}
	k.closeIdle(k.sessions[pid]) // a reused pid whose old connection has not ended yet
	k.sessions[pid] = &session{conn: c}
}

// closeSession forgets the session of connection c, once it has ended.
func (k *OS) closeSession(c *control.Conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for pid, s := range k.sessions {
		if s.conn == c {
			k.closeIdle(s)
			delete(k.sessions, pid)
		}
	}
}

func (k *OS) closeIdle(s *session) {
	if s != nil && s.idle != nil {
		s.idle.Close()
		s.idle = nil
	}
}

// channelFor returns the channel of a process forked for proxy pid: its
// session's idle one, else a new one.
func (k *OS) channelFor(pid int) (*ikc.Channel, error) {
	k.mu.Lock()
	if s := k.sessions[pid]; s != nil && s.idle != nil {
		ch := s.idle
		s.idle = nil
		k.mu.Unlock()
		return ch, nil
	}
	k.mu.Unlock()
	return ikc.Create(fmt.Sprintf("mcos%d-%d", k.Index, pid))
}

// recycle hands the channel of p, which has ended and whose proxy and
// parked calls are done with it, to the session of p's proxy; without one
// (the proxy is gone) it is closed.
func (k *OS) recycle(p *task.Process) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.sessions[p.ProxyPID]; s != nil && s.idle == nil {
		p.Chan.Reset()
		if !p.Attached {
			p.Chan.SetEnded(p.Token)
		}
		s.idle = p.Chan
		return
	}
	p.Chan.Close()
}
