package capture

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenFiles reads this process's own descriptors as it reads an
// mcexec's: a regular file at a known position, a pipe, a directory.
func TestOpenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("12345")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	files, err := OpenFiles(7, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	byFD := map[int]string{}
	for _, of := range files {
		if of.PID != 7 {
			t.Errorf("fd %d recorded for pid %d, want 7", of.FD, of.PID)
		}
		byFD[of.FD] = of.Type + " " + of.Path
		if of.FD == int(f.Fd()) && (of.Pos != 5 || of.Flags&os.O_WRONLY == 0 && of.Flags&os.O_RDWR == 0) {
			t.Errorf("the file at pos %d flags %o, want pos 5, writable", of.Pos, of.Flags)
		}
	}
	for fd, want := range map[uintptr]string{f.Fd(): "REG " + path, dir.Fd(): "DIR " + filepath.Dir(path)} {
		if byFD[int(fd)] != want {
			t.Errorf("fd %d: %q, want %q", fd, byFD[int(fd)], want)
		}
	}
	if got := byFD[int(r.Fd())]; len(got) < 10 || got[:10] != "FIFO pipe:" {
		t.Errorf("the pipe's read end: %q", got)
	}
	if _, err := OpenFiles(7, 1<<30); err == nil {
		t.Error("files of a process that does not exist: no error")
	}
}
