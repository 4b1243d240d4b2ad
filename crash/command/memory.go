package command

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
)

// maxWords bounds what rd shows at once: a COUNT typed by mistake must
// not read gigabytes.
const maxWords = 1 << 20

// rd reads memory as crash's rd: COUNT 8-byte words, two a line, then
// those bytes as ASCII.
func (s *Session) rd(args []string) error {
	var user, phys bool
	rest, err := flags("rd", args, func(fs *pflag.FlagSet) {
		fs.BoolVarP(&user, "user", "u", false, "")
		fs.BoolVarP(&phys, "physical", "p", false, "")
	})
	if err != nil {
		return err
	}
	if err := operands("rd", rest, 1, 2); err != nil {
		return err
	}
	if user && phys {
		return fmt.Errorf("-u and -p exclude each other")
	}
	addr, err := cli.ParseAddr(rest[0])
	if err != nil {
		return err
	}
	count := 1
	if len(rest) == 2 {
		if count, err = strconv.Atoi(rest[1]); err != nil || count <= 0 || count > maxWords {
			return fmt.Errorf("bad count %q: want 1 to %d words", rest[1], maxWords)
		}
	}
	mem, at, err := s.space(user, phys, addr)
	if err != nil {
		return err
	}
	buf := make([]byte, 8*count)
	if _, err := mem.ReadMemory(buf, at); err != nil {
		return err
	}
	return writeWords(s, addr, buf)
}

// space is the memory rd -u, -p or neither reads, and where in it addr
// is: the context app's virtual memory, the partition (through the
// daemon's direct map), or the daemon's virtual memory.
func (s *Session) space(user, phys bool, addr uint64) (inspect.Memory, uint64, error) {
	switch {
	case user:
		snap, p, _, err := s.target(nil)
		if err != nil {
			return nil, 0, err
		}
		app, err := lwk.NewAppMemory(s.tg.Mem, snap, p.PID)
		return app, addr, err
	case phys:
		snap, err := s.snapshot()
		if err != nil {
			return nil, 0, err
		}
		if snap.Direct == 0 {
			return nil, 0, fmt.Errorf("%s: the daemon does not map the partition", snap.Source)
		}
		if addr >= snap.MemTotal {
			return nil, 0, fmt.Errorf("partition offset %#x is past the partition's %#x bytes", addr, snap.MemTotal)
		}
		return s.tg.Mem, snap.Direct + addr, nil
	}
	return s.tg.Mem, addr, nil
}

func writeWords(s *Session, addr uint64, buf []byte) error {
	var b strings.Builder
	for at := 0; at < len(buf); at += 16 {
		line := buf[at:min(at+16, len(buf))]
		fmt.Fprintf(&b, "%x: ", addr+uint64(at))
		for w := 0; w < len(line); w += 8 {
			fmt.Fprintf(&b, " %016x", binary.LittleEndian.Uint64(line[w:]))
		}
		b.WriteString(strings.Repeat(" ", 17*(2-len(line)/8)+3))
		for _, c := range line {
			if c < ' ' || c > '~' {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteByte('\n')
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
