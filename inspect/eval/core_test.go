package eval

import (
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// coreMemory reads the memory a core file holds: its PT_LOAD segments.
// Test-only: package inspect has the real dump reader.
type coreMemory struct {
	file *elf.File
}

func (c coreMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	for _, seg := range c.file.Progs {
		if seg.Type != elf.PT_LOAD || addr < seg.Vaddr || addr-seg.Vaddr >= seg.Filesz {
			continue
		}
		off := addr - seg.Vaddr
		n := min(uint64(len(buf)), seg.Filesz-off)
		return seg.ReadAt(buf[:n], int64(off))
	}
	return 0, fmt.Errorf("core: %#x not in the dump", addr)
}

// TestEvalCore evaluates on a gcore dump of the target, after the target
// is gone: the same values come from the dump as from the live process.
func TestEvalCore(t *testing.T) {
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		t.Skip("gcore (gdb) not installed")
	}
	tg := startTarget(t)
	prefix := filepath.Join(t.TempDir(), "core")
	pid := tg.cmd.Process.Pid
	if out, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("gcore: %v\n%s", err, out)
	}
	tg.cmd.Process.Kill()
	tg.cmd.Wait()

	core, err := elf.Open(prefix + "." + strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ev, err := New(tg.exe, coreMemory{core})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	expectValues(t, ev, evalCases)
}
