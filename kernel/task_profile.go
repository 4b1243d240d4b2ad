package kernel

import (
	"time"

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
