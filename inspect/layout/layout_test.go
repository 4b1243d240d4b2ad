package layout

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

const rootName = "main.root"

// target builds testdata/target with DWARF (go test strips its own
// binary) and returns its path and the layout it reports of itself.
func target(t *testing.T) (string, map[string]uint64) {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "target")
	if out, err := exec.Command("go", "build", "-o", exe, "./testdata/target").CombinedOutput(); err != nil {
		t.Fatalf("build target: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	var truth map[string]uint64
	if err := json.Unmarshal(out, &truth); err != nil {
		t.Fatal(err)
	}
	return exe, truth
}

func TestLoad(t *testing.T) {
	exe, truth := target(t)
	l, err := Load(exe, "test", []string{rootName})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := l.Var("main.root")
	if !ok || v.Addr != truth["root"] {
		t.Fatalf("root at %#x %v, want %#x", v.Addr, ok, truth["root"])
	}
	ptr := l.Types[v.Type]
	if ptr.Kind != Ptr || ptr.Size != 8 {
		t.Fatalf("type of root %+v", ptr)
	}
	st := l.Types[ptr.Elem]
	if st.Kind != Struct || st.Size != int64(truth["size"]) {
		t.Fatalf("state %+v", st)
	}
	kinds := map[string]Kind{"Seq": Uint, "Name": String, "Items": Slice, "Table": Array, "Next": Ptr, "M": Map}
	for name, kind := range kinds {
		f, ok := st.Field(name)
		if !ok || f.Off != int64(truth[name]) || l.Types[f.Type].Kind != kind {
			t.Errorf("field %s: %+v (%v), want offset %d kind %v", name, f, l.Types[f.Type].Kind, truth[name], kind)
		}
	}
	table, _ := st.Field("Table")
	if at := l.Types[table.Type]; at.Len != 3 || l.Types[at.Elem].Kind != Int || l.Types[at.Elem].Size != 2 {
		t.Errorf("Table %+v", at)
	}
	next, _ := st.Field("Next")
	if l.Types[next.Type].Elem != ptr.Elem {
		t.Error("a type referring to itself was converted twice")
	}
	items, _ := st.Field("Items")
	item := l.Types[l.Types[l.Types[items.Type].Elem].Elem]
	if b, _ := item.Field("B"); b.Off != int64(truth["item.B"]) {
		t.Errorf("item.B at %d", b.Off)
	}
	if _, err := Load(exe, "x", []string{"no/such.Var"}); err == nil {
		t.Error("a missing variable loaded")
	}

	t.Run("cache", func(t *testing.T) {
		dir := t.TempDir()
		first, err := Cached(dir, exe, "id/1", []string{rootName})
		if err != nil {
			t.Fatal(err)
		}
		// The second load must come from the file: the binary it names
		// does not exist.
		second, err := Cached(dir, "/nonexistent", "id/1", []string{rootName})
		if err != nil {
			t.Fatalf("cached layout not used: %v", err)
		}
		if !reflect.DeepEqual(first, second) {
			t.Error("cached layout differs from the loaded one")
		}
		// A corrupt cache file is ignored, not trusted.
		os.WriteFile(cacheFile(dir, "id/1", []string{rootName}), []byte(`{"build_id":"id/1","types":[{"n":"x","e":99}]}`), 0o644)
		if _, err := Cached(dir, "/nonexistent", "id/1", []string{rootName}); err == nil {
			t.Error("a corrupt cache file was used")
		}
	})
}
