package lwktest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/testprog"
)

// TestSharedFileMappings runs testdata/c/shmfile (MAP_SHARED of a file,
// /dev/shm and a memfd, with a forked child, msync, mremap, the access
// rules and SIGBUS after a truncation) and testdata/c/sysvshm (System V
// shared memory) on the LWK and natively; then a
// Linux process (this test) and an LWK process write one file through
// their mappings at once. Nothing is left behind: the allocator is back at
// its baseline and the daemon holds no descriptor of the files.
func TestSharedFileMappings(t *testing.T) {
	in, base := bootOne(t, "512M")
	files := daemonFDs(t, in, isFile)
	prog := testprog.MustC(t, "shmfile")
	t.Run("programs", func(t *testing.T) {
		same(t, in, "", prog, t.TempDir())
	})
	t.Run("sysv", func(t *testing.T) {
		same(t, in, "", testprog.MustC(t, "sysvshm"))
	})
	t.Run("linux", func(t *testing.T) {
		native := liveShared(t, exec.Command(prog, t.TempDir(), "linux"))
		lwk := liveShared(t, in.Mcexec(prog, t.TempDir(), "linux"))
		if native != lwk || !strings.Contains(lwk, "linux") {
			t.Errorf("with a Linux writer: native %q, LWK %q", native, lwk)
		}
	})
	in.WaitIdle(base)
	if now := daemonFDs(t, in, isFile); !slices.Equal(now, files) {
		t.Errorf("the daemon holds descriptors of %q, of %q before the programs", now, files)
	}
}

// liveShared runs shmfile's linux mode under cmd: once it says ready, this
// process maps the file, checks the program's write and writes its own,
// which the program then reads from its mapping.
func liveShared(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	dir := cmd.Args[len(cmd.Args)-2]
	cmd.Stderr = os.Stderr
	stdin, out := startTalking(t, cmd)
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if line, err := out.ReadString('\n'); line != "ready\n" {
		t.Fatalf("the program said %q (%v)", line, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "live"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	if string(m[:3]) != "lwk" {
		t.Errorf("Linux's mapping shows %q where the program wrote lwk", m[:3])
	}
	copy(m[8:], "linux")
	fmt.Fprintln(stdin)
	rest, _ := out.ReadString('\n')
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("%v: %v", cmd.Args, err)
	}
	return rest
}

// startTalking starts cmd with pipes to its stdin and from its stdout.
func startTalking(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdin, bufio.NewReader(stdout)
}

// daemonFDs lists what the daemon's descriptors name (their links in
// /proc/PID/fd) that keep says are to be counted, sorted: connections and
// a spare stub's set-up come and go, so tests count what they leak.
func daemonFDs(t *testing.T, in *Instance, keep func(target string) bool) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", in.PID)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if to, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && keep(to) {
			out = append(out, to)
		}
	}
	slices.Sort(out)
	return out
}

// isFile says a descriptor names a file: not a socket, pipe or anonymous
// inode.
func isFile(target string) bool { return strings.HasPrefix(target, "/") }
