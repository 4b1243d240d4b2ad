package lwkabi

import "golang.org/x/sys/unix"

// shmat's flags, Linux's values (golang.org/x/sys/unix has them only for
// other systems).
const (
	ShmRdonly = 0o10000
	ShmRnd    = 0o20000
	ShmRemap  = 0o40000
	ShmExec   = 0o100000
)

// ShmFlags are shmat's flags for an attachment of protection prot.
func ShmFlags(prot int) int {
	f := 0
	if prot&unix.PROT_WRITE == 0 {
		f |= ShmRdonly
	}
	if prot&unix.PROT_EXEC != 0 {
		f |= ShmExec
	}
	return f
}
