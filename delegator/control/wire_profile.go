package control

import "github.com/gomck/gomck/kernel/stats"

// putProfile encodes r, which may be nil: a presence byte, then its fields.
func putProfile(e *Encoder, r *stats.ProfileReport) {
	e.Bool(r != nil)
	if r == nil {
		return
	}
	e.Int(r.PID)
	e.Str(r.Exe)
	EncodeSlice(e, r.Threads, putThreadProfile)
	putThreadProfile(e, r.Process)
}

func putThreadProfile(e *Encoder, t stats.ThreadProfile) {
	e.Int(t.TID)
	EncodeSlice(e, t.Syscalls, func(e *Encoder, c stats.SyscallCount) {
		e.Int(c.Nr)
		e.Str(c.Name)
		e.Uint(c.Local.Calls)
		e.Uint(c.Local.Ns)
		e.Uint(c.Offloaded.Calls)
		e.Uint(c.Offloaded.Ns)
	})
	c := t.Counters
	for _, v := range []uint64{c.RunNs, c.Switches, c.Migrations, c.PageFaults, c.FutexWaits, c.Signals,
		c.LocalCalls, c.LocalNs, c.OffloadCalls, c.OffloadNs} {
		e.Uint(v)
	}
}

// getProfile decodes what putProfile encoded.
func getProfile(d *Decoder) *stats.ProfileReport {
	if !d.Bool() {
		return nil
	}
	return &stats.ProfileReport{ // fields are read in order
		PID:     d.Int(),
		Exe:     d.Str(),
		Threads: DecodeSlice(d, 2, getThreadProfile),
		Process: getThreadProfile(d),
	}
}

func getThreadProfile(d *Decoder) stats.ThreadProfile {
	return stats.ThreadProfile{
		TID: d.Int(),
		Syscalls: DecodeSlice(d, 6, func(d *Decoder) stats.SyscallCount {
			return stats.SyscallCount{Nr: d.Int(), Name: d.Str(),
				Local:     stats.Syscall{Calls: d.Uint(), Ns: d.Uint()},
				Offloaded: stats.Syscall{Calls: d.Uint(), Ns: d.Uint()}}
		}),
		Counters: stats.Counters{RunNs: d.Uint(), Switches: d.Uint(), Migrations: d.Uint(), PageFaults: d.Uint(),
			FutexWaits: d.Uint(), Signals: d.Uint(), LocalCalls: d.Uint(), LocalNs: d.Uint(),
			OffloadCalls: d.Uint(), OffloadNs: d.Uint()},
	}
}
