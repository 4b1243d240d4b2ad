package elfinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Note is one ELF note: an owner name, a type and a payload.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// Note types and owners read here.
const (
	NTGNUBuildID = 3          // owner "GNU"
	NTGoBuildID  = 4          // owner "Go"
	NTPrpsinfo   = 3          // owner "CORE"
	NTAuxv       = 6          // owner "CORE"
	NTFile       = 0x46494c45 // owner "CORE": the mapped files
)

// ParseNotes splits a note section or PT_NOTE segment into notes; names and
// payloads are 4-byte aligned as in ELF64 cores and executables.
func ParseNotes(b []byte, order binary.ByteOrder) ([]Note, error) {
	var out []Note
	for len(b) > 0 {
		if len(b) < 12 {
			return out, fmt.Errorf("elfinfo: truncated note header (%d bytes)", len(b))
		}
		namesz, descsz, typ := uint64(order.Uint32(b)), uint64(order.Uint32(b[4:])), order.Uint32(b[8:])
		b = b[12:]
		nameEnd, descStart := namesz, align4(namesz)
		descEnd := descStart + descsz
		if descStart > uint64(len(b)) || descEnd > uint64(len(b)) {
			return out, fmt.Errorf("elfinfo: note of type %#x overruns its section", typ)
		}
		name := b[:nameEnd]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		out = append(out, Note{Name: string(name), Type: typ, Desc: b[descStart:descEnd]})
		b = b[min(align4(descEnd), uint64(len(b))):]
	}
	return out, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// Find returns the payload of the first note with the given owner and type.
func Find(notes []Note, name string, typ uint32) ([]byte, bool) {
	for _, n := range notes {
		if n.Name == name && n.Type == typ {
			return n.Desc, true
		}
	}
	return nil, false
}

// MappedFile is one entry of a core's NT_FILE note.
type MappedFile struct {
	Start, End, Offset uint64 // Offset in bytes (the note counts pages)
	Path               string
}

// ParseFileNote decodes an ELF64 NT_FILE payload: count, page size, count
// (start, end, page offset) triples, then count NUL-terminated paths.
func ParseFileNote(b []byte, order binary.ByteOrder) ([]MappedFile, error) {
	if len(b) < 16 {
		return nil, errors.New("elfinfo: NT_FILE note too short")
	}
	count, pageSize := order.Uint64(b), order.Uint64(b[8:])
	b = b[16:]
	if count > uint64(len(b))/24 {
		return nil, fmt.Errorf("elfinfo: NT_FILE note claims %d files in %d bytes", count, len(b))
	}
	files := make([]MappedFile, count)
	for i := range files {
		e := b[i*24:]
		files[i] = MappedFile{Start: order.Uint64(e), End: order.Uint64(e[8:]), Offset: order.Uint64(e[16:]) * pageSize}
	}
	names := b[count*24:]
	for i := range files {
		end := 0
		for end < len(names) && names[end] != 0 {
			end++
		}
		if end == len(names) {
			return nil, fmt.Errorf("elfinfo: NT_FILE note: path %d of %d unterminated", i+1, count)
		}
		files[i].Path = string(names[:end])
		names = names[end+1:]
	}
	return files, nil
}

// Auxv returns the value of key in an ELF64 auxiliary vector.
func Auxv(b []byte, order binary.ByteOrder, key uint64) (uint64, bool) {
	for ; len(b) >= 16; b = b[16:] {
		if k := order.Uint64(b); k == key {
			return order.Uint64(b[8:]), true
		} else if k == 0 {
			break
		}
	}
	return 0, false
}

// AtEntry is the auxiliary vector's entry-point key: with the binary's own
// entry it gives the load bias of a position-independent daemon.
const AtEntry = 9

// PrpsinfoPID returns pr_pid of an x86-64 NT_PRPSINFO payload.
func PrpsinfoPID(b []byte, order binary.ByteOrder) (int, bool) {
	if len(b) < prpsinfoPIDOff+4 {
		return 0, false
	}
	return int(int32(order.Uint32(b[prpsinfoPIDOff:]))), true
}

// prpsinfoPIDOff is pr_pid's offset: after state, sname, zomb, nice,
// padding, flag, uid, gid.
const prpsinfoPIDOff = 24
