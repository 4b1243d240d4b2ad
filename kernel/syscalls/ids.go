package syscalls

import "golang.org/x/sys/unix"

func init() {
	register(func(c *Call) int64 { return int64(c.T.Proc.PID) }, unix.SYS_GETPID)
	register(func(c *Call) int64 { return int64(c.T.TID) }, unix.SYS_GETTID)
	register(func(c *Call) int64 { return int64(c.T.Proc.PPID) }, unix.SYS_GETPPID)
	register(func(c *Call) int64 { return int64(c.T.Proc.Cred.UID) }, unix.SYS_GETUID)
	register(func(c *Call) int64 { return int64(c.T.Proc.Cred.EUID) }, unix.SYS_GETEUID)
	register(func(c *Call) int64 { return int64(c.T.Proc.Cred.GID) }, unix.SYS_GETGID)
	register(func(c *Call) int64 { return int64(c.T.Proc.Cred.EGID) }, unix.SYS_GETEGID)
	register(func(c *Call) int64 { return int64(c.T.Proc.PGID) }, unix.SYS_GETPGRP)
	register(sysSetTIDAddress, unix.SYS_SET_TID_ADDRESS)
}

func sysSetTIDAddress(c *Call) int64 {
	c.T.Begin()
	c.T.ClearChildTID = c.Args[0]
	c.T.End()
	return int64(c.T.TID)
}
