package kernel

import (
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// keepProfile keeps the profile of p, a forked process that ends before
// its proxy attached, for that proxy's attach (takeProfile), which may come
// up to attachTimeout later.
func (k *OS) keepProfile(p *task.Process) {
	r := p.Profile.Report(p.PID, p.Exe)
	if r == nil {
		return
	}
	k.mu.Lock()
	if k.unattachedProfiles == nil {
		k.unattachedProfiles = map[uint64]*stats.ProfileReport{}
	}
	k.unattachedProfiles[p.Token] = r
	k.mu.Unlock()
	time.AfterFunc(attachTimeout, func() { k.takeProfile(p.Token) })
}

// takeProfile removes and returns the profile kept for the proxy of token,
// nil if none.
func (k *OS) takeProfile(token uint64) *stats.ProfileReport {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.unattachedProfiles[token]
	delete(k.unattachedProfiles, token)
	return r
}

// sendExit reports the end of a process to its proxy with the process's
// profile, if any. A profile too large for one message (threads by the
// thousand) goes with the process's sum only, not to lose the exit.
func (k *OS) sendExit(c *control.Conn, resp control.Response, prof *stats.ProfileReport) error {
	resp.Profile = prof
	err := c.Send(resp)
	if err != nil && prof != nil && len(prof.Threads) > 0 {
		k.Kmsg.Printf("pid %d: profile: %v; sending the process's sum only", prof.PID, err)
		sum := *prof
		sum.Threads = nil
		resp.Profile = &sum
		err = c.Send(resp)
	}
	return err
}
