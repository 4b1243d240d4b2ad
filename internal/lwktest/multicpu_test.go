package lwktest

import (
	"runtime"
	"testing"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

// TestMultiCPU runs processes whose threads spread over two LWK CPUs:
// placement, migration, futexes, signals and memory across CPUs. A 2-CPU
// machine cannot give the LWK two CPUs of its own, so the instance shares
// CPUs 0 and 1 with Linux (partition.SharedCPUsEnv).
func TestMultiCPU(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	t.Setenv(partition.SharedCPUsEnv, "1")
	in := Boot(t, "-c", "0-1", "-m", "2G", "-O")
	base := in.Status().MemFree
	prog := func(name string) string { return testprog.MustC(t, name) }
	t.Run("placement", func(t *testing.T) {
		res := Run(in.Mcexec(prog("multicpu"), "placement"), "")
		if res.Stdout != "2 threads on 2 CPUs\n" {
			t.Errorf("unpinned threads on the LWK: %v", res)
		}
		in.WaitIdle(base)
	})
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"multicpu", []string{prog("multicpu")}},
		{"pthreads", []string{prog("pthreads")}},
		{"openmp", []string{prog("openmp")}},
		{"fpswitch", []string{prog("fpswitch")}},
		{"shmfork", []string{prog("shmfork")}},
		{"sigextra", []string{prog("sigextra")}},
		{"gohello", []string{testprog.MustGo(t, "gohello")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, in, "", tc.argv...)
			in.WaitIdle(base)
		})
	}
	// Go's own tests: threads on both CPUs, cross-CPU signals (Go's
	// AllThreadsSyscall), children killed from the other CPU while they
	// exec, parallel forks from both CPUs, and os/signal's races between
	// signal delivery and futex waits across CPUs.
	if !testing.Short() {
		runGoStdlib(t, in, "sync", "os", "os/signal")
	}
}
