package lwkabi

import "golang.org/x/sys/unix"

// ProtOf reads the PROT_* bits of a /proc/PID/maps permission field
// ("r-xp"): the daemon's and a stub's mappings are read from it, by the
// kernel for a core and by ihkosctl dump.
func ProtOf(perms string) int {
	var prot int
	for i, bit := range []int{unix.PROT_READ, unix.PROT_WRITE, unix.PROT_EXEC} {
		if i < len(perms) && perms[i] != '-' {
			prot |= bit
		}
	}
	return prot
}
