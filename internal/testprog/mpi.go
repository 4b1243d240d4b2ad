package testprog

import (
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"testing"
)

// MPIs are Debian's MPI implementations, by the suffix of their mpicc and
// mpirun alternatives (mpicc.openmpi, mpirun.mpich).
var MPIs = []string{"openmpi", "mpich"}

// MPI builds testdata/c/<name>.c with mpicc.<impl> (one of MPIs), dynamic,
// and returns its path in the cache, like C.
func MPI(impl, name string) (string, error) {
	if !slices.Contains(MPIs, impl) {
		return "", fmt.Errorf("testprog: unknown MPI implementation %q", impl)
	}
	return buildC(name, impl, true)
}

// MustMPI is MPI for tests: it skips tb when the implementation is not
// installed (scripts/deps.sh installs both) and fails it on a build error.
func MustMPI(tb testing.TB, impl, name string) string {
	tb.Helper()
	if _, err := exec.LookPath("mpicc." + impl); err != nil {
		tb.Skipf("mpicc.%s not installed (Debian: openmpi-bin libopenmpi-dev, mpich)", impl)
	}
	path, err := MPI(impl, name)
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

var mpiccInfos sync.Map // impl -> func() (string, error)

// mpiccInfo identifies mpicc.<impl> and the compiler and library it wraps,
// for the cache key.
func mpiccInfo(impl string) (string, error) {
	f, _ := mpiccInfos.LoadOrStore(impl, sync.OnceValues(func() (string, error) {
		cc, err := exec.LookPath("mpicc." + impl)
		if err != nil {
			return "", fmt.Errorf("testprog: mpicc.%s not found in PATH", impl)
		}
		ver, err := exec.Command(cc, "--version").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("testprog: %s --version: %v", cc, err)
		}
		lib, _ := exec.Command("mpirun."+impl, "--version").CombinedOutput()
		return cc + "\n" + string(ver) + string(lib), nil
	}))
	return f.(func() (string, error))()
}
