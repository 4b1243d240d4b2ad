package sysno

import (
	"iter"
	"strconv"
	"syscall"
)

// Kind is how the LWK serves a system call.
type Kind uint8

const (
	// Offloaded calls are executed as they are by the app's mcexec on
	// Linux. The zero Kind: so is any number the table does not list.
	Offloaded Kind = iota
	// Local calls are served by the LWK itself, a few as stubs that
	// return a constant (Entry.Note says so).
	Local
	// Prepared calls are offloaded after the LWK prepared them: it
	// rewrites a path naming /proc or /sys to its own view of it.
	Prepared
	// Refused calls get Entry.Errno from the LWK without being executed.
	Refused
)

var kindNames = [...]string{Offloaded: "offloaded", Local: "local", Prepared: "prepared", Refused: "refused"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// RunsOnLinux reports whether mcexec executes calls of kind k, so that
// their time counts as offloaded time, not the LWK's.
func (k Kind) RunsOnLinux() bool { return k == Offloaded || k == Prepared }

// Entry is one system call of the table.
type Entry struct {
	Name string // Linux's name, as in syscall_64.tbl
	Kind Kind
	// Family names the file of kernel/syscalls that holds the handler of
	// a local or prepared call ("mm" is mm.go). Offloaded calls take
	// offload.go's path; refused ones are answered from this table.
	Family string
	Errno  syscall.Errno // what a refused call returns
	Note   string        // why a call is refused, or what a stub answers
}

// Limit is one past the highest number in the table.
const Limit = 472

// Lookup returns the entry of call number nr; false if the table does
// not list nr.
func Lookup(nr uint64) (Entry, bool) {
	if nr >= Limit || calls[nr].Name == "" {
		return Entry{}, false
	}
	return calls[nr], true
}

// Name returns the Linux name of call number nr; "" if not listed.
func Name(nr uint64) string {
	if nr >= Limit {
		return ""
	}
	return calls[nr].Name
}

// Number returns the number of the call named name (Linux's name).
func Number(name string) (uint64, bool) {
	if name == "" {
		return 0, false
	}
	// A scan of a few hundred names: tools ask this rarely, and a map
	// would cost every program that imports the table its building.
	for nr := range calls {
		if calls[nr].Name == name {
			return uint64(nr), true
		}
	}
	return 0, false
}

// KindOf returns how the LWK serves call number nr; numbers not listed
// are offloaded.
func KindOf(nr uint64) Kind {
	if nr >= Limit {
		return Offloaded
	}
	return calls[nr].Kind
}

// All yields the listed calls in number order.
func All() iter.Seq2[uint64, Entry] {
	return func(yield func(uint64, Entry) bool) {
		for nr := range calls {
			if calls[nr].Name != "" && !yield(uint64(nr), calls[nr]) {
				return
			}
		}
	}
}
