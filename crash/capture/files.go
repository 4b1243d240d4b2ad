package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gomck/gomck/crash/dumpfile"
)

// appFDLimit is mcexec.ReservedFD: mcexec keeps its own descriptors at
// and above it, the app's are those below. (Importing mcexec for it
// would run mcexec's constructor, which reserves the app window, in
// every tool.)
const appFDLimit = 900

// OpenFiles lists the open files of LWK process pid, which are the
// descriptors of its mcexec, proxy, below mcexec's own: the link of
// /proc/PROXY/fd/N, its file type and fdinfo's pos and flags.
func OpenFiles(pid, proxy int) ([]dumpfile.OpenFile, error) {
	dir := fmt.Sprintf("/proc/%d/fd", proxy)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pid %d: files of its mcexec (pid %d): %w", pid, proxy, err)
	}
	var out []dumpfile.OpenFile
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd >= appFDLimit {
			continue
		}
		path, err := os.Readlink(dir + "/" + e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // closed meanwhile
		}
		f := dumpfile.OpenFile{PID: pid, FD: fd, Path: path, Type: "UNKN"}
		if st, err := os.Stat(dir + "/" + e.Name()); err == nil {
			f.Type = fileType(st.Mode())
		}
		f.Pos, f.Flags = fdinfo(fmt.Sprintf("/proc/%d/fdinfo/%d", proxy, fd))
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b dumpfile.OpenFile) int { return a.FD - b.FD })
	return out, nil
}

// fileType names a file's type as crash's files does.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "REG"
	case m.IsDir():
		return "DIR"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "SOCK"
	case m&fs.ModeCharDevice != 0:
		return "CHR"
	case m&fs.ModeDevice != 0:
		return "BLK"
	case m&fs.ModeSymlink != 0:
		return "LNK"
	}
	return "UNKN"
}

// fdinfo reads the pos and flags (octal) of an fdinfo file; zeros when
// it is gone.
func fdinfo(path string) (pos int64, flags int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "pos":
			pos, _ = strconv.ParseInt(v, 10, 64)
		case "flags":
			f, _ := strconv.ParseInt(v, 8, 64)
			flags = int(f)
		}
	}
	return pos, flags
}
