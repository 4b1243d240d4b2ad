package command

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/eval"
	"github.com/gomck/gomck/inspect/layout"
)

// evaluator is the Go expression evaluator on the kernel, made once.
func (s *Session) evaluator() (*eval.Evaluator, error) {
	if s.ev == nil {
		ev, err := eval.New(s.tg.Kernel, s.tg.Mem)
		if err != nil {
			return nil, err
		}
		// kmsg lines and paths are longer than dlv's 64-byte default, as
		// mcinspect --print has it.
		ev.Limits.MaxStringLen = 4096
		s.ev = ev
	}
	return s.ev, nil
}

// print evaluates a Go expression as mcinspect --print does.
func (s *Session) print(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: p EXPR")
	}
	ev, err := s.evaluator()
	if err != nil {
		return err
	}
	out, changing, err := cli.StableEval(ev, strings.Join(args, " "), false, s.tg.Live)
	if err != nil {
		return err
	}
	if changing {
		fmt.Fprintln(s.Out, "(changing) the value differed each time it was read")
	}
	_, err = s.Out.Write(out)
	return err
}

// findType resolves a kernel type by name: in full
// (github.com/gomck/gomck/kernel/task.Thread), after the module
// (kernel/task.Thread), or by package and name (task.Thread), which must
// then be unique.
func (s *Session) findType(name string) (*layout.Type, error) {
	for _, full := range []string{name, modulePath + name} {
		if t, ok := s.layout.Lookup(full); ok {
			return t, nil
		}
	}
	var found []*layout.Type
	for _, t := range s.layout.Types {
		if t == nil {
			continue
		}
		// Named types only: not *T, []T, map[K]T of the name.
		if path, ok := strings.CutSuffix(t.Name, "/"+name); ok && !strings.ContainsAny(path, "[]* (") || t.Name == name {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("invalid data structure reference: %s (no such type among those reachable from %s)", name, "kernel.Instance")
	case 1:
		return found[0], nil
	}
	var names []string
	for _, t := range found {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("%s is ambiguous: %s", name, strings.Join(names, ", "))
}

// structCmd prints a type's layout with offsets, as crash's struct -o,
// or with an address the value there, as p *(*T)(ADDR).
func (s *Session) structCmd(args []string) error {
	// -o (offsets) is crash's; the layout always has them.
	args, err := flags("struct", args, func(fs *pflag.FlagSet) { fs.BoolP("offsets", "o", false, "") })
	if err != nil {
		return err
	}
	if err := operands("struct", args, 1, 2); err != nil {
		return err
	}
	t, err := s.findType(args[0])
	if err != nil {
		return err
	}
	if len(args) == 2 {
		addr, err := cli.ParseAddr(args[1])
		if err != nil {
			return err
		}
		// Delve would print a value of unreadable fields: say why instead.
		if _, err := s.tg.Mem.ReadMemory(make([]byte, max(t.Size, 1)), addr); err != nil {
			return fmt.Errorf("%s at %#x: %w", t.Name, addr, err)
		}
		// Delve takes a type named verbatim as a string literal.
		return s.print([]string{fmt.Sprintf("*(*%q)(%#x)", t.Name, addr)})
	}
	var b strings.Builder
	if t.Kind != layout.Struct {
		fmt.Fprintf(&b, "type %s %s\nSIZE: %d\n", t.Name, t.Kind, t.Size)
	} else {
		fmt.Fprintf(&b, "type %s struct {\n", t.Name)
		for _, f := range t.Fields {
			fmt.Fprintf(&b, "  [%d] %s %s\n", f.Off, f.Name, s.typeName(f.Type))
		}
		fmt.Fprintf(&b, "}\nSIZE: %d\n", t.Size)
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

func (s *Session) typeName(i int) string {
	if i <= 0 || i >= len(s.layout.Types) || s.layout.Types[i] == nil {
		return "unsafe.Pointer"
	}
	return s.layout.Types[i].Name
}
