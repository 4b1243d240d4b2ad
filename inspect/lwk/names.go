package lwk

import "github.com/gomck/gomck/kernel/syscalls/sysno"

// threadStates maps task.ThreadState to ps's letter and a word.
var threadStates = []struct{ letter, word string }{
	{"R", "runnable"}, // task.Runnable
	{"R", "running"},  // task.Running
	{"S", "offload"},  // task.Offload: waiting for mcexec
	{"S", "sleeping"}, // task.Sleeping
	{"Z", "zombie"},   // task.Zombie
	{"T", "stopped"},  // task.Stopped
}

func threadState(s uint64) (letter, word string) {
	if s < uint64(len(threadStates)) {
		return threadStates[s].letter, threadStates[s].word
	}
	return "?", "unknown"
}

// SyscallName names an x86-64 system call number from the LWK's own
// table; "" if unknown. A negative nr (task.NoSyscall) wraps past it.
func SyscallName(nr int64) string {
	return sysno.Name(uint64(nr))
}

// slotStates are ikc's Slot* states by value.
var slotStates = []string{"free", "posted", "taken", "done", "aborted"}

func slotState(s uint64) string {
	if s < uint64(len(slotStates)) {
		return slotStates[s]
	}
	return "?"
}
