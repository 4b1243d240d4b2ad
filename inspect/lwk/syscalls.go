package lwk

import (
	"math/bits"

	"github.com/gomck/gomck/inspect/value"
	"github.com/gomck/gomck/kernel/stats"
)

// syscallsUsed is where one kernel/stats.Thread record keeps its
// per-syscall counters and which numbers it counted (its used bitmap):
// the entries to read, a few of the table's hundreds.
type syscallsUsed struct {
	local, offloaded value.Value // the Local and Offloaded arrays, not read
	used             []uint64
}

// usedOf takes the used bitmap of a stats.Thread record st, read with it.
func usedOf(st value.Value) syscallsUsed {
	u := syscallsUsed{local: st.Field("Local").Unread(), offloaded: st.Field("Offloaded").Unread()}
	for _, w := range st.Field("used").Each() {
		u.used = append(u.used, w.Uint())
	}
	return u
}

// syscalls reads the counted entries of every record in one gathered
// read: a thousand threads' counts cost one process_vm_readv, not one
// per entry.
func (d *decoder) syscalls(recs []syscallsUsed) [][]stats.SyscallCount {
	out := make([][]stats.SyscallCount, len(recs))
	var entries []value.Value // local and offloaded of each number, in turn
	for i, u := range recs {
		for w, set := range u.used {
			for ; set != 0; set &= set - 1 {
				nr := w*64 + bits.TrailingZeros64(set)
				if nr >= u.local.Len() {
					break // garbage: a bitmap wider than the table
				}
				out[i] = append(out[i], stats.SyscallCount{Nr: nr, Name: SyscallName(int64(nr))})
				entries = append(entries, u.local.Index(nr), u.offloaded.Index(nr))
			}
		}
	}
	entries = d.r.LoadAll(entries)
	for i := range out {
		for j := range out[i] {
			local, offloaded := entries[0], entries[1]
			entries = entries[2:]
			out[i][j].Local = stats.Syscall{Calls: local.Field("Calls").Uint(), Ns: local.Field("Ns").Uint()}
			out[i][j].Offloaded = stats.Syscall{Calls: offloaded.Field("Calls").Uint(), Ns: offloaded.Field("Ns").Uint()}
		}
	}
	return out
}
