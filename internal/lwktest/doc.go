// Package lwktest boots real LWK instances for tests: it builds the gomck
// commands once, boots an instance in a private run directory, runs
// programs under mcexec, and on cleanup stops the daemon by its PID and
// releases the partition and cpuset even when the test failed.
//
// Booting needs root (ptrace of stubs, mlock, cpusets); Boot skips the test
// otherwise.
package lwktest
