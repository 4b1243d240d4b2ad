package elfinfo

import (
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
)

// BuildID identifies a binary: the hex NT_GNU_BUILD_ID when it has one
// (Go's linker writes it), else "go:" and Go's build id.
type BuildID string

// ReadBuildID returns f's build id and where its note section is loaded
// (0 when not loaded), so that the same bytes can be looked for in a dump.
func ReadBuildID(f *elf.File) (id BuildID, noteAddr uint64, note []byte, err error) {
	for _, s := range []struct {
		sec, owner string
		typ        uint32
	}{{".note.gnu.build-id", "GNU", NTGNUBuildID}, {".note.go.buildid", "Go", NTGoBuildID}} {
		sec := f.Section(s.sec)
		if sec == nil {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			return "", 0, nil, fmt.Errorf("elfinfo: read %s: %w", s.sec, err)
		}
		notes, err := ParseNotes(data, f.ByteOrder)
		if err != nil {
			return "", 0, nil, err
		}
		if desc, ok := Find(notes, s.owner, s.typ); ok {
			if s.owner == "GNU" {
				id = BuildID(hex.EncodeToString(desc))
			} else {
				id = BuildID("go:" + string(desc))
			}
			return id, sec.Addr, data, nil
		}
	}
	return "", 0, nil, errors.New("elfinfo: binary has no build id note")
}

// FileBuildID opens path and returns its build id.
func FileBuildID(path string) (BuildID, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	id, _, _, err := ReadBuildID(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}
