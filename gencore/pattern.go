package gencore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PatternInfo is what core_pattern's specifiers stand for. The ids are
// the LWK's, which are all the app and mcps know.
type PatternInfo struct {
	PID, TID int
	UID, GID int
	Signal   int
	Time     time.Time
	Hostname string
	Comm     string // the executable's name (%e)
	Exe      string // its path (%E)
	Limit    uint64 // RLIMIT_CORE's soft limit (%c)
	Dumpable int    // %d
}

// Expand expands core_pattern as Linux's format_corename does. A pattern
// starting with '|' names a program to pipe the core to: argv is its
// command line, split at spaces before expansion so that an expanded
// name with spaces stays one argument. Otherwise path is the file to
// write, relative to the process's cwd unless absolute; with usesPID
// (core_uses_pid) and no %p in the pattern, ".PID" is appended.
func Expand(pattern string, usesPID bool, in PatternInfo) (path string, argv []string) {
	pattern = strings.TrimSuffix(pattern, "\n")
	if rest, ok := strings.CutPrefix(pattern, "|"); ok {
		for _, word := range strings.Fields(rest) {
			arg, _ := expand(word, in)
			argv = append(argv, arg)
		}
		return "", argv
	}
	path, hasPID := expand(pattern, in)
	if usesPID && !hasPID {
		path += "." + strconv.Itoa(in.PID)
	}
	return path, nil
}

// expand expands the specifiers of s; hasPID reports a %p.
func expand(s string, in PatternInfo) (out string, hasPID bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			break // a lone % at the end is dropped
		}
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'p', 'P':
			hasPID = hasPID || s[i] == 'p'
			fmt.Fprint(&b, in.PID)
		case 'i', 'I':
			fmt.Fprint(&b, in.TID)
		case 'u':
			fmt.Fprint(&b, in.UID)
		case 'g':
			fmt.Fprint(&b, in.GID)
		case 'd':
			fmt.Fprint(&b, in.Dumpable)
		case 's':
			fmt.Fprint(&b, in.Signal)
		case 't':
			fmt.Fprint(&b, in.Time.Unix())
		case 'c':
			fmt.Fprint(&b, in.Limit)
		case 'h':
			escaped(&b, in.Hostname)
		case 'e':
			escaped(&b, in.Comm)
		case 'E':
			escaped(&b, in.Exe)
		}
		// Unknown specifiers expand to nothing, as in Linux.
	}
	return b.String(), hasPID
}

// escaped writes name as Linux's cn_esc_printf does: '/' becomes '!', as
// does the first dot of a name that is "." or "..", and an empty name is
// "!", so that no expansion changes the directory the core goes to.
func escaped(b *strings.Builder, name string) {
	switch name {
	case "", ".", "..":
		name = "!" + name[min(1, len(name)):]
	}
	b.WriteString(strings.ReplaceAll(name, "/", "!"))
}
