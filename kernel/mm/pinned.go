package mm

// A pinned VMA is one the kernel itself writes through the direct map
// for as long as the image lives (the PAPI counters page, kernel/
// task_counters.go): the app may not unmap, replace, move or drop its
// pages, lest the kernel write into memory given to someone else. Only
// exec (Reset) and the process's end (Release) free it.

// pinnedIn reports whether a pinned VMA overlaps [lo, hi).
func (as *AddressSpace) pinnedIn(lo, hi uint64) bool {
	for i := max(as.find(lo), 0); i < len(as.VMAs) && as.VMAs[i].Start < hi; i++ {
		if v := as.VMAs[i]; v.End > lo && v.Pinned {
			return true
		}
	}
	return false
}
