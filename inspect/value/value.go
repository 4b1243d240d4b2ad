package value

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
)

// Limits against garbage: a torn or corrupt slice header must not make
// the reader allocate gigabytes.
const (
	MaxString = 1 << 20
	MaxElems  = 1 << 20
	maxLoad   = 4 << 20
)

// Reader reads typed values from a memory.
type Reader struct {
	Mem    inspect.Memory
	Layout *layout.Layout
	Bias   uint64 // load bias of a position-independent daemon
	// Tries is how many times Stable reads a changing record (1 for a
	// dump, which never changes).
	Tries int
	err   error
}

// Value is a typed location in the daemon's memory, or a copy of it.
type Value struct {
	r    *Reader
	T    *layout.Type
	Addr uint64
	buf  []byte // the value's bytes when loaded; nil to read memory
}

// Fail records err unless an earlier error is pending.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Take returns and clears the pending error.
func (r *Reader) Take() error {
	err := r.err
	r.err = nil
	return err
}

// Var returns package variable name.
func (r *Reader) Var(name string) Value {
	v, ok := r.Layout.Var(name)
	if !ok {
		r.Fail(fmt.Errorf("no variable %s in the kernel's DWARF", name))
		return Value{r: r, T: r.Layout.Types[0]}
	}
	return Value{r: r, T: r.Layout.Types[v.Type], Addr: v.Addr + r.Bias}
}

func (v Value) typ(i int) *layout.Type { return v.r.Layout.Types[i] }

func (v Value) fail(format string, args ...any) Value {
	v.r.Fail(fmt.Errorf("%s at %#x: %s", v.T.Name, v.Addr, fmt.Sprintf(format, args...)))
	return Value{r: v.r, T: v.r.Layout.Types[0]}
}

// Nil reports whether v is a nil pointer (or unreadable).
func (v Value) Nil() bool {
	return v.T.Kind == layout.Ptr && v.word(0) == 0 || v.T == v.r.Layout.Types[0]
}

// Load copies the value's bytes from memory in one read, so that its
// fields read from the copy: a record is then one snapshot.
func (v Value) Load() Value {
	if v.buf != nil || v.T.Size <= 0 || v.T.Size > maxLoad {
		return v
	}
	b := make([]byte, v.T.Size)
	if _, err := v.r.Mem.ReadMemory(b, v.Addr); err != nil {
		v.r.Fail(err)
		return v
	}
	v.buf = b
	return v
}

// bytes returns n bytes at offset off in v.
func (v Value) bytes(off, n int64) []byte {
	if v.buf != nil && off >= 0 && off+n <= int64(len(v.buf)) {
		return v.buf[off : off+n]
	}
	b := make([]byte, n)
	if _, err := v.r.Mem.ReadMemory(b, v.Addr+uint64(off)); err != nil {
		v.r.Fail(err)
		return make([]byte, n)
	}
	return b
}

func (v Value) word(off int64) uint64 { return binary.LittleEndian.Uint64(v.bytes(off, 8)) }

// Field returns field name of a struct, or of the struct a pointer points to.
func (v Value) Field(name string) Value {
	if v.T.Kind == layout.Ptr {
		v = v.Deref()
	}
	if v.T.Kind != layout.Struct {
		if v.T == v.r.Layout.Types[0] {
			return v // an earlier failure
		}
		return v.fail("field %s of a %s", name, v.T.Kind)
	}
	f, ok := v.T.Field(name)
	if !ok {
		return v.fail("no field %s", name)
	}
	out := Value{r: v.r, T: v.typ(f.Type), Addr: v.Addr + uint64(f.Off)}
	if v.buf != nil && f.Off+out.T.Size <= int64(len(v.buf)) {
		out.buf = v.buf[f.Off : f.Off+out.T.Size]
	}
	return out
}

// Deref follows a pointer; nil gives the unknown value and an error.
func (v Value) Deref() Value {
	if v.T.Kind != layout.Ptr {
		return v.fail("deref of a %s", v.T.Kind)
	}
	p := v.word(0)
	if p == 0 {
		return v.fail("nil pointer")
	}
	return Value{r: v.r, T: v.typ(v.T.Elem), Addr: p}
}

// Len is the length of a slice, string or array.
func (v Value) Len() int {
	switch v.T.Kind {
	case layout.Slice, layout.String:
		n := v.word(8)
		if n > MaxElems && v.T.Kind == layout.Slice || n > MaxString {
			v.fail("implausible length %d", n)
			return 0
		}
		return int(n)
	case layout.Array:
		return int(v.T.Len)
	}
	v.fail("len of a %s", v.T.Kind)
	return 0
}

// Index returns element i of a slice or array.
func (v Value) Index(i int) Value {
	switch v.T.Kind {
	case layout.Slice:
		elem := v.typ(v.T.Elem)
		return Value{r: v.r, T: elem, Addr: v.word(0) + uint64(i)*uint64(elem.Size)}
	case layout.Array:
		elem := v.typ(v.T.Elem)
		out := Value{r: v.r, T: elem, Addr: v.Addr + uint64(i)*uint64(elem.Size)}
		if off := int64(i) * elem.Size; v.buf != nil && off+elem.Size <= int64(len(v.buf)) {
			out.buf = v.buf[off : off+elem.Size]
		}
		return out
	}
	return v.fail("index of a %s", v.T.Kind)
}

// Elems returns every element of a slice or array, read in one go.
func (v Value) Elems() []Value {
	n := v.Len()
	if n == 0 {
		return nil
	}
	elem := v.typ(v.T.Elem)
	all := v
	if v.T.Kind == layout.Slice {
		all = Value{r: v.r, T: &layout.Type{Kind: layout.Array, Len: int64(n), Elem: v.T.Elem, Size: int64(n) * elem.Size}, Addr: v.word(0)}
	}
	all = all.Load()
	out := make([]Value, n)
	for i := range out {
		out[i] = all.Index(i)
	}
	return out
}

// Uint returns an unsigned integer, bool as 0/1, a pointer's address, or
// the v field of a sync/atomic integer.
func (v Value) Uint() uint64 {
	switch v.T.Kind {
	case layout.Uint, layout.Int, layout.Ptr, layout.Bool, layout.Func, layout.Chan, layout.Map:
		b := v.bytes(0, v.T.Size)
		switch len(b) {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(binary.LittleEndian.Uint16(b))
		case 4:
			return uint64(binary.LittleEndian.Uint32(b))
		case 8:
			return binary.LittleEndian.Uint64(b)
		}
	case layout.Struct:
		if _, ok := v.T.Field("v"); ok {
			return v.Field("v").Uint()
		}
	}
	v.fail("not an integer")
	return 0
}

// Int returns a signed integer, sign-extended from its size.
func (v Value) Int() int64 {
	u := v.Uint()
	switch v.T.Size {
	case 1:
		return int64(int8(u))
	case 2:
		return int64(int16(u))
	case 4:
		return int64(int32(u))
	}
	return int64(u)
}

// Float returns a float32 or float64.
func (v Value) Float() float64 {
	if v.T.Kind != layout.Float {
		v.fail("not a float")
		return 0
	}
	if v.T.Size == 4 {
		return float64(math.Float32frombits(uint32(v.Uint64Bits())))
	}
	return math.Float64frombits(v.Uint64Bits())
}

// Uint64Bits returns the raw bits of a value of up to 8 bytes.
func (v Value) Uint64Bits() uint64 {
	var b [8]byte
	copy(b[:], v.bytes(0, min(v.T.Size, 8)))
	return binary.LittleEndian.Uint64(b[:])
}

// Bool returns a bool.
func (v Value) Bool() bool { return v.Uint() != 0 }

// Str returns a string, or a []byte as text.
func (v Value) Str() string {
	switch v.T.Kind {
	case layout.String, layout.Slice:
		n := v.Len()
		if n == 0 {
			return ""
		}
		b := make([]byte, n)
		if _, err := v.r.Mem.ReadMemory(b, v.word(0)); err != nil {
			v.r.Fail(err)
			return ""
		}
		return string(b)
	}
	v.fail("not a string")
	return ""
}

// Raw returns the value's bytes.
func (v Value) Raw() []byte { return v.bytes(0, v.T.Size) }

// ErrChanging says a record kept changing while it was read.
var ErrChanging = errors.New("(changing)")

// Stable reads a record guarded by the sequence counter in its field Seq
// (odd while a writer is inside): read decodes the loaded record, and the
// read is kept only if the counter was even and unchanged around it.
// A record that never settled within Reader.Tries gives ErrChanging; other
// read errors are returned as they are.
func (r *Reader) Stable(rec Value, read func(rec Value)) error {
	tries := max(r.Tries, 1)
	var err error
	for i := range tries {
		if i > 0 {
			time.Sleep(time.Duration(i*i) * 50 * time.Microsecond)
		}
		loaded := rec.Load()
		before := loaded.Field("Seq").Uint()
		if err = r.Take(); err != nil {
			continue // a torn pointer to the record; try again
		}
		if before%2 == 1 {
			err = ErrChanging
			continue
		}
		read(loaded)
		after := rec.Field("Seq").Uint()
		if err = r.Take(); err != nil {
			continue
		}
		if after == before {
			return nil
		}
		err = ErrChanging
	}
	return err
}
