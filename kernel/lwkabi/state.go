package lwkabi

// PageSize is the LWK's page size: the allocator's unit, and the unit
// of /proc's statm.
const PageSize = 4096

// ThreadState is a thread's scheduling state, shown by mcps as ST.
type ThreadState uint32

const (
	Runnable ThreadState = iota // R
	Running                     // R, current on its CPU
	Offload                     // S, waiting for mcexec
	Sleeping                    // S
	Zombie                      // Z
	Stopped                     // T, its process is stopped (job control); on no run queue
)

// threadStates are ps's letter and a word for each state, by value.
var threadStates = [...]struct {
	letter byte
	word   string
}{
	Runnable: {'R', "runnable"},
	Running:  {'R', "running"},
	Offload:  {'S', "offload"},
	Sleeping: {'S', "sleeping"},
	Zombie:   {'Z', "zombie"},
	Stopped:  {'T', "stopped"},
}

// Letter is ps's letter for the state, as /proc/<pid>/stat shows it;
// '?' for a value no kernel writes (corrupt memory).
func (s ThreadState) Letter() byte {
	if int(s) < len(threadStates) {
		return threadStates[s].letter
	}
	return '?'
}

// String is the state's word, finer than the letter: mcps says why a
// thread sleeps (offload, sleeping).
func (s ThreadState) String() string {
	if int(s) < len(threadStates) {
		return threadStates[s].word
	}
	return "unknown"
}

// Shown is the state ps shows of a thread in this state: every live
// thread of a stopped process is stopped, as on Linux, whose group stop
// takes sleepers in too; the LWK marks a thread asleep when its process
// stopped (pause, an offloaded read) Stopped only when it wakes.
func (s ThreadState) Shown(processStopped bool) ThreadState {
	if processStopped && s != Zombie {
		return Stopped
	}
	return s
}

// Kind says what a VMA holds; mcinspect --maps shows it as the mapping name.
type Kind uint8

const (
	KindAnon  Kind = iota
	KindHeap       // the brk heap
	KindStack      // the initial thread's stack
	KindFile       // private file mapping, filled by offloaded reads
	KindELF        // an image segment placed by the loader
)

var kindNames = [...]string{KindAnon: "anon", KindHeap: "[heap]", KindStack: "[stack]", KindFile: "file", KindELF: "elf"}

// String is the kind's name; "?" for a value no kernel writes.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}
