package testprog

// Stressors are the stress-ng stressors the tests run under mcexec
// (TestStressNG) and make bench compares with native (figures
// stressng_*): the process model (fork, clone, signals, futexes, pipes,
// context switches, System V IPC), memory (mmap, vm, malloc, shm), CPU
// work and devices. Not exec: it refuses to run as root, as they do.
var Stressors = [...]string{"cpu", "fork", "clone", "pipe", "futex", "switch", "signal", "sem", "msg",
	"shm", "mmap", "vm", "malloc", "hash", "matrix", "memcpy", "zero", "null", "sock", "timer"}
