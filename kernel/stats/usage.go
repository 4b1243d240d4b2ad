package stats

// CPUTimes splits c's run time as getrusage, times and /proc/PID/stat
// report it: system time is the LWK's time serving local calls, user time
// the rest of the time the thread held its CPU. An offload wait is
// neither: the thread is asleep while Linux serves the call.
func (c Counters) CPUTimes() (userNs, sysNs uint64) {
	sysNs = min(c.LocalNs, c.RunNs)
	return c.RunNs - sysNs, sysNs
}

// Usage are a process's counters as getrusage reports them: those of its
// threads that have ended (the live ones' are read from them), and those
// of the children wait reaped, theirs included (RUSAGE_CHILDREN).
type Usage struct {
	Ended, Reaped Counters
	// MaxRSS and ReapedMaxRSS are the largest resident sizes, in bytes,
	// seen at the process's own reads and ends and at its reaped
	// children's: the LWK keeps no high-water mark between them.
	MaxRSS, ReapedMaxRSS uint64
}
