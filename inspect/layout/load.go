package layout

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/go-delve/delve/pkg/dwarf/op"
)

// Load reads the layout of the roots (package variables by full name)
// from the binary at path, whose build id is id.
func Load(path, id string, roots []string) (*Layout, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := typeDWARF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: DWARF: %w (the daemon must be built without -s -w)", path, err)
	}
	b := &builder{d: d, l: &Layout{BuildID: id, Types: []*Type{{Name: "unknown"}}, Vars: map[string]Var{}},
		index: map[dwarf.Offset]int{}, cache: map[dwarf.Offset]godwarf.Type{}}
	want := map[string]bool{}
	for _, r := range roots {
		want[r] = true
	}
	r := d.Reader()
	for len(want) > 0 {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: DWARF: %w", path, err)
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case dwarf.TagSubprogram:
			r.SkipChildren() // locals are not package variables
		case dwarf.TagVariable:
			name, _ := e.Val(dwarf.AttrName).(string)
			if !want[name] {
				continue
			}
			delete(want, name)
			if err := b.addVar(name, e); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, name, err)
			}
		}
	}
	for name := range want {
		return nil, fmt.Errorf("%s: no variable %s in DWARF: not a gomck daemon binary?", path, name)
	}
	return b.l, nil
}

// typeDWARF loads only the sections that describe types and variables:
// line tables and call frames, most of the DWARF, are not needed.
func typeDWARF(f *elf.File) (*dwarf.Data, error) {
	sec := func(name string) []byte {
		b, _ := godwarf.GetDebugSectionElf(f, name)
		return b
	}
	d, err := dwarf.New(sec("abbrev"), nil, nil, sec("info"), nil, nil, nil, sec("str"))
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"addr", "str_offsets", "line_str"} {
		if b := sec(name); b != nil {
			if err := d.AddSection(".debug_"+name, b); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

type builder struct {
	d     *dwarf.Data
	l     *Layout
	index map[dwarf.Offset]int
	cache map[dwarf.Offset]godwarf.Type
}

func (b *builder) addVar(name string, e *dwarf.Entry) error {
	loc, ok := e.Val(dwarf.AttrLocation).([]byte)
	if !ok {
		return errors.New("no static location")
	}
	addr, _, err := op.ExecuteStackProgram(op.DwarfRegisters{}, loc, 8, nil)
	if err != nil {
		return fmt.Errorf("location: %w", err)
	}
	off, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return errors.New("no type")
	}
	t, err := godwarf.ReadType(b.d, 0, off, b.cache)
	if err != nil {
		return fmt.Errorf("type: %w", err)
	}
	b.l.Vars[name] = Var{Addr: uint64(addr), Type: b.add(t)}
	return nil
}

// add converts t and everything it refers to, once each.
func (b *builder) add(t godwarf.Type) int {
	if t == nil {
		return 0
	}
	name := t.String()
	if td, ok := t.(*godwarf.TypedefType); ok {
		t = godwarf.ResolveTypedef(td)
		if t == nil {
			return 0
		}
	}
	off := t.Common().Offset
	if i, ok := b.index[off]; ok {
		return i
	}
	lt := &Type{Name: name, Size: t.Size()}
	i := len(b.l.Types)
	b.l.Types = append(b.l.Types, lt)
	b.index[off] = i
	switch t := t.(type) {
	case *godwarf.BoolType:
		lt.Kind = Bool
	case *godwarf.IntType:
		lt.Kind = Int
	case *godwarf.UintType, *godwarf.UcharType, *godwarf.AddrType:
		lt.Kind = Uint
	case *godwarf.FloatType:
		lt.Kind = Float
	case *godwarf.PtrType:
		lt.Kind, lt.Elem = Ptr, b.add(t.Type)
	case *godwarf.StringType:
		lt.Kind = String
	case *godwarf.SliceType:
		lt.Kind, lt.Elem = Slice, b.add(t.ElemType)
	case *godwarf.ArrayType:
		lt.Kind, lt.Len, lt.Elem = Array, t.Count, b.add(t.Type)
	case *godwarf.MapType:
		lt.Kind = Map
	case *godwarf.ChanType:
		lt.Kind, lt.Elem = Chan, b.add(t.ElemType)
	case *godwarf.FuncType:
		lt.Kind = Func
	case *godwarf.InterfaceType:
		lt.Kind = Interface
	case *godwarf.StructType:
		lt.Kind = Struct
		for _, f := range t.Field {
			lt.Fields = append(lt.Fields, Field{Name: f.Name, Off: f.ByteOffset})
		}
		// Fields' types after the struct is indexed: types refer to
		// themselves through pointers.
		for j, f := range t.Field {
			lt.Fields[j].Type = b.add(f.Type)
		}
	}
	return i
}
