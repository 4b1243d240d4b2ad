package lwktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

// MPI programs under `mpirun -n N mcexec -n N`, with Debian's Open MPI and
// MPICH, against the same mpirun natively.

// mpirun prepares testprog.MPIRun for the instance, in a directory of
// the test's.
func mpirun(in *Instance, impl string, tcp bool, np int, argv ...string) *exec.Cmd {
	cmd := testprog.MPIRun(context.Background(), impl, tcp, np, argv...)
	cmd.Env = append(cmd.Env, "GOMCK_RUNDIR="+in.RunDir)
	cmd.Dir = in.tb.TempDir()
	return cmd
}

// sameMPI runs prog with np ranks natively and with each rank under
// `mcexec -n np`, and requires the same output and status.
func sameMPI(t *testing.T, in *Instance, impl string, tcp bool, np int, prog string, args ...string) {
	t.Helper()
	want := Run(mpirun(in, impl, tcp, np, append([]string{prog}, args...)...), "")
	if want.Code != 0 || want.Stdout == "" {
		t.Fatalf("%s natively: %v", filepath.Base(prog), want)
	}
	mc := filepath.Join(in.Bin, "mcexec")
	got := Run(mpirun(in, impl, tcp, np, append([]string{mc, "-n", fmt.Sprint(np), prog}, args...)...), "")
	if got.Stdout != want.Stdout || got.Code != want.Code {
		t.Errorf("%s differs\nnative: %v\nLWK:    %v", filepath.Base(prog), want, got)
	}
}

// bootShared boots an instance on CPUs 0 and 1, shared with Linux (a
// 2-CPU machine cannot isolate two), with mcreboot's extra args.
func bootShared(t *testing.T, args ...string) *Instance {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	t.Setenv(partition.SharedCPUsEnv, "1")
	return Boot(t, append([]string{"-c", "0-1", "-m", "2G"}, args...)...)
}

// TestMPI runs the point-to-point and collective programs with two ranks,
// one per LWK CPU, and with three time-sharing two CPUs (-O), over TCP;
// and the shared-memory transports with the MPI-3 shared window where
// the LWK has writable shared file mappings.
func TestMPI(t *testing.T) {
	in := bootShared(t, "-O")
	base := in.Status().MemFree
	shm := sharedFileMappings(in)
	for _, impl := range testprog.MPIs {
		for _, tc := range []struct {
			prog string
			np   int
			tcp  bool
		}{
			{"mpiring", 2, true},
			{"mpicoll", 2, true},
			{"mpiring", 3, true},
			{"mpicoll", 3, true},
			{"mpiring", 2, false},
			{"mpicoll", 2, false},
			{"mpishm", 2, false},
		} {
			transport := map[bool]string{true: "tcp", false: "shm"}[tc.tcp]
			t.Run(fmt.Sprintf("%s/%s/%s/np%d", impl, tc.prog, transport, tc.np), func(t *testing.T) {
				if tc.np > runtime.NumCPU() && impl == "mpich" {
					// Its ranks poll without yielding: natively, three on
					// two CPUs take minutes.
					t.Skip("MPICH does not yield when oversubscribed")
				}
				if tc.tcp && impl == "mpich" && os.Getenv("GOMCK_TEST_MPICH_TCP") == "" {
					// Known, intermittent (about one run in three here): one
					// rank keeps flushing its UCX endpoints while the other
					// waits in the PMI barrier. GOMCK_TEST_MPICH_TCP=1 runs it.
					t.Skip("MPICH over TCP hangs now and then in MPI_Finalize under mcexec")
				}
				prog := testprog.MustMPI(t, impl, tc.prog)
				if !tc.tcp && shm != nil {
					t.Skipf("shared-memory transport: %v", shm)
				}
				sameMPI(t, in, impl, tc.tcp, tc.np, prog)
				in.WaitIdle(base)
				noPartExecs(t, in)
			})
		}
	}
}

// sharedFileMappings reports why the LWK cannot map a /dev/shm file
// shared and writable, as MPI's shared-memory transports do (issue 19
// part 1), or nil if it can.
func sharedFileMappings(in *Instance) error {
	path := filepath.Join("/dev/shm", fmt.Sprintf("gomck-probe-%d", os.Getpid()))
	defer os.Remove(path)
	res := Run(in.Mcexec("/usr/bin/python3", "-c", `import mmap, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
m[0:2] = b"ok"
print(os.pread(fd, 2, 0).decode())`, path), "")
	if res.Stdout != "ok\n" {
		return fmt.Errorf("no writable MAP_SHARED file mappings yet: %s", strings.TrimSpace(res.Stderr))
	}
	return nil
}

// TestMPIPartition checks the shares mcexec -n gives: one LWK CPU to each
// of two ranks, by the launcher's local rank; the whole instance to one;
// the ranks of a killed mcexec given back.
func TestMPIPartition(t *testing.T) {
	in := bootShared(t, "-O")
	base := in.Status().MemFree
	mc := filepath.Join(in.Bin, "mcexec")
	for _, impl := range testprog.MPIs {
		if _, err := exec.LookPath("mpirun." + impl); err != nil {
			continue
		}
		t.Run(impl, func(t *testing.T) {
			for _, tc := range []struct {
				np, ppn int
				want    string
			}{
				{2, 2, "1\n1\n"}, // nproc counts the CPUs sched_getaffinity gives
				{1, 1, "2\n"},
			} {
				res := Run(mpirun(in, impl, true, tc.np, mc, "-n", fmt.Sprint(tc.ppn), "nproc"), "")
				if res.Stdout != tc.want || res.Code != 0 {
					t.Errorf("mpirun -n %d mcexec -n %d nproc: %v, want %q", tc.np, tc.ppn, res, tc.want)
				}
			}
			in.WaitIdle(base)
			noPartExecs(t, in)
		})
	}
	// Each local rank has its CPU: the kmsg says which.
	log := kmsg(t, in)
	for _, want := range []string{`local rank 0 of 2 \(parent \d+\) on cpus 0\n`, `local rank 1 of 2 \(parent \d+\) on cpus 1\n`,
		`local rank 0 of 1 \(parent \d+\) on cpus 0-1\n`} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("kmsg lacks %q:\n%s", want, log)
		}
	}

	t.Run("killed", func(t *testing.T) {
		// Started by the test, without a launcher's rank: the kernel
		// ranks them as they come.
		var sleepers []*exec.Cmd
		for range 2 {
			c := in.Mcexec("-n", "2", "sleep", "60")
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			sleepers = append(sleepers, c)
			defer c.Process.Kill()
		}
		waitFor(t, func() bool { return len(in.Status().Processes) == 2 })
		if res := Run(in.Mcexec("-n", "2", "true"), ""); res.Code == 0 || !strings.Contains(res.Stderr, "2 processes of parent") {
			t.Errorf("a third process of -n 2: %v", res)
		}
		sleepers[0].Process.Signal(syscall.SIGKILL)
		sleepers[0].Wait()
		waitFor(t, func() bool { return len(in.Status().Processes) == 1 })
		if res := Run(in.Mcexec("-n", "2", "true"), ""); res.Code != 0 {
			t.Errorf("the killed mcexec's rank was not given back: %v", res)
		}
		sleepers[1].Process.Signal(syscall.SIGKILL)
		sleepers[1].Wait()
		in.WaitIdle(base)
		noPartExecs(t, in)
	})
}

// TestMPIBadInput: -n 0 and -n beyond the CPUs without -O fail with
// McKernel's messages; a rank outside -n is refused; nothing is left.
func TestMPIBadInput(t *testing.T) {
	in := bootShared(t)
	base := in.Status().MemFree
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"-n", "0"}, "", "mcexec: -n: invalid number of processes\n"},
		{[]string{"-n", "-2"}, "", "mcexec: -n: invalid number of processes\n"},
		{[]string{"-n", "two"}, "", "mcexec: -n: invalid number of processes\n"},
		{[]string{"-n", "3"}, "", "mcexec: -n 3: nr_processes can't exceed nr. of CPUs (2) without oversubscription (mcreboot -O): invalid argument\n"},
		{[]string{"-n", "2"}, "OMPI_COMM_WORLD_LOCAL_RANK=2", "mcexec: -n 2: local rank 2 out of range: invalid argument\n"},
	} {
		cmd := in.Mcexec(append(tc.args, "true")...)
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		res := Run(cmd, "")
		if res.Code != 1 || res.Stderr != tc.want || res.Stdout != "" {
			t.Errorf("mcexec %v true (%s): %v, want status 1 and %q", tc.args, tc.env, res, tc.want)
		}
	}
	in.WaitIdle(base)
	noPartExecs(t, in)
}

// noPartExecs checks that the kernel keeps no partitioned execution once
// its processes are gone, reading the kernel's own record from outside.
func noPartExecs(t *testing.T, in *Instance) {
	t.Helper()
	var out []byte
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := in.Cmd("mcinspect", "--print", "len(kernel.Instance.PartExecs)").CombinedOutput()
		if err != nil {
			t.Fatalf("mcinspect --print: %v\n%s", err, b)
		}
		if out = b; strings.TrimSpace(string(b)) == "0" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.TrimSpace(string(out)) != "0" {
		t.Errorf("partitioned executions left after their processes ended: %s", out)
	}
}

// TestMPINetns runs Open MPI over TCP between two "nodes", network
// namespaces the test makes with a veth pair between them, one rank on
// each under mcexec -n 1 of the one instance: mpirun runs in the first,
// and its rsh launcher, instead of ssh, enters the namespace the host
// names (ip netns exec) to start the other node's orted.
func TestMPINetns(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	prog := testprog.MustMPI(t, "openmpi", "mpiring")
	in := bootShared(t, "-O")
	base := in.Status().MemFree
	dir := t.TempDir()
	nodes := [2]struct{ ns, dev, addr string }{}
	hostfile, agent := "", "#!/bin/sh\n# plm_rsh_agent: HOST COMMAND, run in HOST's namespace\nhost=$1; shift\ncase $host in\n"
	for i := range nodes {
		n := &nodes[i]
		n.ns, n.dev, n.addr = fmt.Sprintf("gomck-mpi%d-%d", i, os.Getpid()), fmt.Sprintf("gmpi%d-%d", i, os.Getpid()%10000), fmt.Sprintf("10.199.0.%d", i+1)
		hostfile += n.addr + " slots=1\n"
		agent += fmt.Sprintf("%s) ns=%s;;\n", n.addr, n.ns)
	}
	agent += "*) echo \"no node $host\" >&2; exit 1;;\nesac\nexec ip netns exec \"$ns\" sh -c \"$*\"\n"
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	for _, n := range nodes {
		ip("netns", "add", n.ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n.ns).Run() })
	}
	ip("link", "add", nodes[0].dev, "type", "veth", "peer", "name", nodes[1].dev)
	for _, n := range nodes {
		ip("link", "set", n.dev, "netns", n.ns)
		ip("-n", n.ns, "addr", "add", n.addr+"/24", "dev", n.dev)
		ip("-n", n.ns, "link", "set", n.dev, "up")
		ip("-n", n.ns, "link", "set", "lo", "up")
	}
	hosts := writeFile(t, dir, "hosts", []byte(hostfile), 0o644)
	rsh := writeFile(t, dir, "netns-rsh", []byte(agent), 0o755)

	run := func(argv ...string) Result {
		args := append([]string{"--hostfile", hosts, "--map-by", "node", "--mca", "plm_rsh_agent", rsh,
			"--mca", "btl_tcp_if_include", "10.199.0.0/24", "--mca", "oob_tcp_if_include", "10.199.0.0/24", "-x", "GOMCK_RUNDIR"}, argv...)
		cmd := mpirun(in, "openmpi", true, 2, args...)
		cmd.Args = append([]string{"ip", "netns", "exec", nodes[0].ns}, cmd.Args...)
		cmd.Path, _ = exec.LookPath("ip")
		return Run(cmd, "")
	}
	want := run(prog)
	got := run(filepath.Join(in.Bin, "mcexec"), "-n", "1", prog)
	if want.Code != 0 || want.Stdout == "" {
		t.Fatalf("natively: %v", want)
	}
	if got.Stdout != want.Stdout || got.Code != want.Code {
		t.Errorf("two nodes differ\nnative: %v\nLWK:    %v", want, got)
	}
	// Each node's orted started one rank: two executions of one process.
	if n := strings.Count(kmsg(t, in), "local rank 0 of 1 "); n != 2 {
		t.Errorf("%d ranks started with mcexec -n 1, want one on each node:\n%s", n, kmsg(t, in))
	}
	in.WaitIdle(base)
	noPartExecs(t, in)
}
