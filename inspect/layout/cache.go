package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// formatVersion changes whenever Layout's encoding or what Load extracts
// changes, so that old cache files are not misread.
const formatVersion = "1"

// CacheDir is where layouts are cached: $XDG_CACHE_HOME/gomck/inspect, or
// ~/.cache/gomck/inspect; "" when there is no such directory.
func CacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "gomck", "inspect")
}

func cacheFile(dir, id string, roots []string) string {
	h := sha256.Sum256([]byte(formatVersion + "\x00" + strings.Join(roots, "\x00")))
	safe := strings.NewReplacer("/", "_", ":", "_").Replace(id)
	return filepath.Join(dir, safe+"-"+hex.EncodeToString(h[:6])+".json")
}

// Cached is Load with the per-build-id cache in dir ("" for none).
func Cached(dir, path, id string, roots []string) (*Layout, error) {
	if dir == "" || id == "" {
		return Load(path, id, roots)
	}
	file := cacheFile(dir, id, roots)
	if b, err := os.ReadFile(file); err == nil {
		var l Layout
		if json.Unmarshal(b, &l) == nil && l.BuildID == id && l.valid() {
			return &l, nil
		}
	}
	l, err := Load(path, id, roots)
	if err != nil {
		return nil, err
	}
	store(file, l)
	return l, nil
}

// store writes the cache file atomically; failing to is not an error.
func store(file string, l *Layout) {
	b, err := json.Marshal(l)
	if err != nil || os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".layout-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
	}
}

// valid checks that every type index is in range: a corrupt cache file
// must not make the decoder index out of bounds.
func (l *Layout) valid() bool {
	ok := func(i int) bool { return i >= 0 && i < len(l.Types) }
	for _, t := range l.Types {
		if t == nil || !ok(t.Elem) {
			return false
		}
		for _, f := range t.Fields {
			if !ok(f.Type) {
				return false
			}
		}
	}
	for _, v := range l.Vars {
		if !ok(v.Type) {
			return false
		}
	}
	return len(l.Types) > 0
}
