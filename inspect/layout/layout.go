package layout

import (
	"fmt"
	"strings"
)

// Kind is what a type is, as far as decoding memory goes.
type Kind uint8

const (
	Other Kind = iota // decoded as raw bytes
	Bool
	Int
	Uint
	Float
	Ptr
	String
	Slice
	Array
	Struct
	Map
	Chan
	Func
	Interface
)

var kindNames = [...]string{"other", "bool", "int", "uint", "float", "ptr", "string", "slice", "array", "struct", "map", "chan", "func", "interface"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Type is one type's layout. Elem and Field.Type index Layout.Types;
// index 0 is the unknown type (unsafe.Pointer's element).
type Type struct {
	Name   string  `json:"n"`
	Kind   Kind    `json:"k"`
	Size   int64   `json:"s"`
	Elem   int     `json:"e,omitempty"` // pointer, slice, array, chan element
	Len    int64   `json:"l,omitempty"` // array length
	Fields []Field `json:"f,omitempty"`
}

// Field is a struct field.
type Field struct {
	Name string `json:"n"`
	Off  int64  `json:"o"`
	Type int    `json:"t"`
}

// Var is a package variable.
type Var struct {
	Addr uint64 `json:"a"` // link-time address: add the load bias
	Type int    `json:"t"`
}

// Layout is what one binary's DWARF says about the roots and every type
// reachable from them.
type Layout struct {
	BuildID string         `json:"build_id"`
	Types   []*Type        `json:"types"`
	Vars    map[string]Var `json:"vars"`
}

// Field returns the field of struct t named name.
func (t *Type) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Lookup returns the type named name.
func (l *Layout) Lookup(name string) (*Type, bool) {
	for _, t := range l.Types {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// Var returns the variable name, given in full (".../kernel.Instance") or
// by its last path element ("kernel.Instance").
func (l *Layout) Var(name string) (Var, bool) {
	if v, ok := l.Vars[name]; ok {
		return v, true
	}
	for full, v := range l.Vars {
		if strings.HasSuffix(full, "/"+name) {
			return v, true
		}
	}
	return Var{}, false
}
