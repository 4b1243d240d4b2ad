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
// rules and SIGBUS after a truncation) on the LWK and natively; then a
// Linux process (this test) and an LWK process write one file through
// their mappings at once. Nothing is left behind: the allocator is back at
// its baseline and the daemon holds no descriptor of the files.
func TestSharedFileMappings(t *testing.T) {
	in, base := bootOne(t, "512M")
	files := daemonFiles(t, in.PID)
	prog := testprog.MustC(t, "shmfile")
	t.Run("programs", func(t *testing.T) {
		same(t, in, "", prog, t.TempDir())
	})
	t.Run("linux", func(t *testing.T) {
		native := liveShared(t, exec.Command(prog, t.TempDir(), "linux"))
		lwk := liveShared(t, in.Mcexec(prog, t.TempDir(), "linux"))
		if native != lwk || !strings.Contains(lwk, "linux") {
			t.Errorf("with a Linux writer: native %q, LWK %q", native, lwk)
		}
	})
	in.WaitIdle(base)
	if now := daemonFiles(t, in.PID); !slices.Equal(now, files) {
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

// daemonFiles lists the files (not sockets, pipes or anonymous inodes:
// connections come and go) the daemon pid holds descriptors of.
func daemonFiles(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if to, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(to, "/") {
			files = append(files, to)
		}
	}
	slices.Sort(files)
	return files
}
