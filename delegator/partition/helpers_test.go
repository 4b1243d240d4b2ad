package partition

import (
	"os"
	"path/filepath"
	"testing"
)

// setVar points a package variable somewhere else for the duration of t.
func setVar[T any](t *testing.T, v *T, val T) {
	t.Helper()
	old := *v
	*v = val
	t.Cleanup(func() { *v = old })
}

// writeFiles creates files (path relative to dir -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeCPUs makes the package see a machine with the given online CPUs.
func fakeCPUs(t *testing.T, online string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"online": online + "\n"})
	setVar(t, &sysCPUDir, dir)
}
