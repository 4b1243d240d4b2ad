package inspect

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/gomck/gomck/delegator/control"
)

func TestLive(t *testing.T) {
	secret := []byte("inspect me")
	l, err := OpenLive(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(secret))
	if n, err := l.ReadMemory(buf, uint64(uintptr(unsafe.Pointer(&secret[0])))); err != nil || string(buf[:n]) != string(secret) {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := l.ReadMemory(buf, 8); err == nil {
		t.Error("read of an unmapped address succeeded")
	}
}

// TestReadSpans gathers bytes of this process: more spans than one
// process_vm_readv takes, an empty one, and an unmapped one.
func TestReadSpans(t *testing.T) {
	src := make([]byte, 3000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	base := uint64(uintptr(unsafe.Pointer(&src[0])))
	l := &Live{PID: os.Getpid()}
	for _, tc := range []struct {
		name    string
		spans   int // of 2 bytes each, every third byte
		empty   bool
		wantErr bool
	}{
		{"one", 1, false, false},
		{"over IOV_MAX", 1000, false, false},
		{"with an empty span", 3, true, false},
		{"unmapped", 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var spans []Span
			for i := range tc.spans {
				spans = append(spans, Span{Addr: base + uint64(3*i), Buf: make([]byte, 2)})
			}
			if tc.empty {
				spans = append(spans, Span{Addr: base})
			}
			if tc.wantErr {
				spans = append(spans, Span{Addr: 8, Buf: make([]byte, 2)})
			}
			err := l.ReadSpans(spans)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ReadSpans: %v", err)
			}
			for i := 0; i < tc.spans && err == nil; i++ {
				if spans[i].Buf[0] != src[3*i] || spans[i].Buf[1] != src[3*i+1] {
					t.Fatalf("span %d read %v, want %v", i, spans[i].Buf, src[3*i:3*i+2])
				}
			}
		})
	}
}

func TestDaemonPID(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(control.RunDirEnv, dir)
	if _, err := DaemonPID(0); err == nil || !strings.Contains(err.Error(), "not booted") {
		t.Errorf("no pid file: %v", err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "mcos0.pid"), fmt.Appendf(nil, "%d\n", dead.Process.Pid), 0o644)
	if _, err := DaemonPID(0); !errors.Is(err, ErrGone) {
		t.Errorf("dead daemon: %v", err)
	}
	if _, err := Open(Options{}); !errors.Is(err, ErrGone) {
		t.Errorf("Open of a dead daemon: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "mcos0.pid"), []byte("x"), 0o644)
	if _, err := DaemonPID(0); err == nil || !strings.Contains(err.Error(), "bad pid file") {
		t.Errorf("bad pid file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "mcos0.pid"), fmt.Appendf(nil, "%d", os.Getpid()), 0o644)
	if pid, err := DaemonPID(0); err != nil || pid != os.Getpid() {
		t.Errorf("live pid: %d %v", pid, err)
	}
}

// TestOpenMismatch opens this process as if it were a daemon, with
// another binary as its kernel: refused.
func TestOpenMismatch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(control.RunDirEnv, dir)
	os.WriteFile(filepath.Join(dir, "mcos0.pid"), fmt.Appendf(nil, "%d", os.Getpid()), 0o644)
	other, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no other Go binary at hand")
	}
	if _, err := Open(Options{Kernel: other}); !errors.Is(err, ErrMismatch) {
		t.Errorf("Open with %s as kernel: %v", other, err)
	}
	tg, err := Open(Options{})
	if err != nil {
		t.Fatalf("Open with the right binary: %v", err)
	}
	defer tg.Close()
	if !tg.Live || tg.BuildID == "" || tg.PID != os.Getpid() {
		t.Errorf("target %+v", tg)
	}
}

type failing struct{}

func (failing) ReadMemory([]byte, uint64) (int, error) { return 0, errors.New("first") }

type ones struct{}

func (ones) ReadMemory(b []byte, _ uint64) (int, error) {
	for i := range b {
		b[i] = 1
	}
	return len(b), nil
}

func TestLayers(t *testing.T) {
	b := make([]byte, 4)
	if _, err := (Layers{failing{}, ones{}}).ReadMemory(b, 0); err != nil || b[3] != 1 {
		t.Errorf("second layer not read: %v %v", b, err)
	}
	if _, err := (Layers{failing{}, failing{}}).ReadMemory(b, 0); err == nil || err.Error() != "first" {
		t.Errorf("error %v, want the first layer's", err)
	}
}
