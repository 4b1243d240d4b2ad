package testprog

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
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

// mpiTCP are the settings that keep an MPI implementation off shared
// memory between ranks: Open MPI's TCP BTL with the ob1 PML (not UCX) and
// PMIx's hash store (its ds12 store locks in a shared file); MPICH's UCX
// over TCP without its own local shared memory.
var mpiTCP = map[string]struct{ args, env []string }{
	"openmpi": {args: []string{"--mca", "btl", "self,tcp", "--mca", "pml", "ob1", "-x", "PMIX_MCA_gds=hash"}},
	"mpich":   {env: []string{"MPIR_CVAR_NOLOCAL=1", "UCX_TLS=tcp,self"}},
}

// MPIRun prepares Debian's mpirun (killed when ctx is done) of impl starting np copies of argv,
// over TCP only when tcp is set, else with the implementation's default
// (shared-memory) transports between ranks of a node. As root, Open MPI
// wants to be told that is meant; more ranks than CPUs it must be allowed.
func MPIRun(ctx context.Context, impl string, tcp bool, np int, argv ...string) *exec.Cmd {
	args := []string{"-n", strconv.Itoa(np)}
	env := os.Environ()
	if impl == "openmpi" {
		if np > runtime.NumCPU() {
			args = append(args, "--oversubscribe")
		}
		env = append(env, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	}
	if tcp {
		args = append(args, mpiTCP[impl].args...)
		env = append(env, mpiTCP[impl].env...)
	}
	cmd := exec.CommandContext(ctx, "mpirun."+impl, append(args, argv...)...)
	cmd.Env = env
	return cmd
}
