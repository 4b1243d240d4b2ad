package syscalls

import "golang.org/x/sys/unix"

// Process groups and sessions (getpgrp, getpgid, setpgid, getsid, setsid)
// are offloaded: an LWK pid is its proxy's Linux pid, so Linux's groups of
// the proxies are the app's, and terminal job control sees them.
func init() {
	register(func(c *Call) int64 { return int64(c.T.Proc.PID) }, unix.SYS_GETPID)
	register(func(c *Call) int64 { return int64(c.T.TID) }, unix.SYS_GETTID)
	register(func(c *Call) int64 { return int64(c.T.Proc.PPID) }, unix.SYS_GETPPID)
	register(func(c *Call) int64 { return int64(cred(c).UID) }, unix.SYS_GETUID)
	register(func(c *Call) int64 { return int64(cred(c).EUID) }, unix.SYS_GETEUID)
	register(func(c *Call) int64 { return int64(cred(c).GID) }, unix.SYS_GETGID)
	register(func(c *Call) int64 { return int64(cred(c).EGID) }, unix.SYS_GETEGID)
	register(sysSetTIDAddress, unix.SYS_SET_TID_ADDRESS)
}

func sysSetTIDAddress(c *Call) int64 {
	c.T.Begin()
	c.T.ClearChildTID = c.Args[0]
	c.T.End()
	return int64(c.T.TID)
}
