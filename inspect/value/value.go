package value

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

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

// DefaultBudget is a Reader's budget unless it sets one: a few times what
// a snapshot of thousands of processes and threads takes, so that only
// garbage lengths, each plausible but nested (a million records each with
// a million elements), run into it.
const DefaultBudget = 256 << 20

// DefaultWait is a Reader's Wait unless it sets one: a busy daemon's
// thousand threads, each caught changing once, wait 50 ms in all.
const DefaultWait = 250 * time.Millisecond

// valueSize is what Each allocates per element.
const valueSize = int64(unsafe.Sizeof(Value{}))

// ErrBudget says a Reader ran out of budget: the memory it reads is
// garbage, or the daemon's state is far larger than any real one.
var ErrBudget = errors.New("read budget exhausted (corrupt memory?)")

// Reader reads typed values from a memory.
type Reader struct {
	Mem    inspect.Memory
	Layout *layout.Layout
	Bias   uint64 // load bias of a position-independent daemon
	// Tries is how many times Stable reads a changing record (1 for a
	// dump, which never changes).
	Tries int
	// Wait bounds the time Stable sleeps between tries over the Reader's
	// life; 0 is DefaultWait. Past it a record is tried once: a daemon
	// stopped inside its writers, or garbage whose every counter is odd,
	// must not cost a wait per record.
	Wait   time.Duration
	waited time.Duration
	// Budget bounds the bytes the Reader reads, and allocates for strings
	// and elements, over its life (one snapshot); 0 is DefaultBudget.
	// Past it every read fails with ErrBudget.
	Budget    int64
	spent     int64
	overspent error // ErrBudget with the budget, made once
	err       error
}

// charge takes n bytes of the budget before they are read or allocated;
// false (and ErrBudget pending) when they are not to be.
func (r *Reader) charge(n int64) bool {
	r.spent += n
	if !r.exhausted() {
		return true
	}
	if r.overspent == nil {
		r.overspent = fmt.Errorf("%w: over %d bytes", ErrBudget, cmp.Or(r.Budget, DefaultBudget))
	}
	r.Fail(r.overspent)
	return false
}

// exhausted reports whether the budget is spent.
func (r *Reader) exhausted() bool { return r.spent > cmp.Or(r.Budget, DefaultBudget) }

// Value is a typed location in the daemon's memory, or a copy of it.
type Value struct {
	r    *Reader
	T    *layout.Type
	Addr uint64
	buf  []byte // the value's bytes when loaded; nil to read memory
	// g holds some fields of a gathered record (Gather); base is v's
	// offset in that record.
	g    *gathered
	base int64
}

// gathered is the loaded ranges of a record, packed in buf.
type gathered struct {
	buf  []byte
	have []span
}

// span is the range [off, end) of a record, at buf[at:] when gathered.
type span struct{ off, end, at int64 }

// bytes returns the n bytes at offset off of the record, or nil if they
// were not gathered.
func (g *gathered) bytes(off, n int64) []byte {
	for _, h := range g.have {
		if off >= h.off && off+n <= h.end {
			return g.buf[h.at+off-h.off : h.at+off-h.off+n]
		}
	}
	return nil
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
	if v.r.err != nil { // kept over this one: not worth formatting
		return Value{r: v.r, T: v.r.Layout.Types[0]}
	}
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
	if !v.loadable() || !v.r.charge(v.T.Size) {
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

// Gather loads the named fields of a struct, dotted paths into nested
// structs ("Stats.LocalCalls"), in one read where the memory can gather
// (inspect.Gatherer). A thread record is 25 KiB, mostly per-syscall
// counters and siginfo slots that mcps never shows: loaded whole, a
// thousand threads cost 25 MB of copying. Fields not named still read,
// from memory.
func (v Value) Gather(paths ...string) Value {
	return v.r.GatherAll([]Value{v}, paths...)[0]
}

// GatherAll is Gather of records of one type, in one read.
func (r *Reader) GatherAll(vs []Value, paths ...string) []Value {
	out := slices.Clone(vs)
	if len(vs) == 0 || vs[0].buf != nil || vs[0].g != nil {
		return out
	}
	have, size, err := fieldSpans(r.Layout, vs[0].T, paths)
	if err != nil {
		vs[0].fail("%v", err)
		return out
	}
	if !r.charge(size * int64(len(vs))) {
		return out
	}
	buf := make([]byte, size*int64(len(vs)))
	var spans []inspect.Span
	for i, v := range vs {
		g := &gathered{buf: buf[int64(i)*size : int64(i+1)*size], have: have}
		for _, h := range have {
			spans = append(spans, inspect.Span{Addr: v.Addr + uint64(h.off), Buf: g.buf[h.at : h.at+h.end-h.off]})
		}
		out[i].g = g
	}
	if err := r.readSpans(spans); err != nil {
		r.Fail(err)
		return vs
	}
	return out
}

// fieldSpans places the fields named by paths of a struct of type t: the
// ranges to read, neighbours within a cache line merged, and the bytes
// they take packed.
func fieldSpans(l *layout.Layout, t *layout.Type, paths []string) ([]span, int64, error) {
	var have []span
	for _, p := range paths {
		ft, off := t, int64(0)
		for name := range strings.SplitSeq(p, ".") {
			f, ok := ft.Field(name)
			if ft.Kind != layout.Struct || !ok {
				return nil, 0, fmt.Errorf("no field %s", p)
			}
			ft, off = l.Types[f.Type], off+f.Off
		}
		have = append(have, span{off: off, end: off + ft.Size})
	}
	slices.SortFunc(have, func(a, b span) int { return cmp.Compare(a.off, b.off) })
	merged := have[:0]
	for _, h := range have {
		if n := len(merged); n > 0 && h.off <= merged[n-1].end+64 {
			merged[n-1].end = max(merged[n-1].end, h.end)
			continue
		}
		merged = append(merged, h)
	}
	var size int64
	for i := range merged {
		merged[i].at = size
		size += merged[i].end - merged[i].off
	}
	return merged, size, nil
}

// readSpans reads spans in one call where the memory can gather.
func (r *Reader) readSpans(spans []inspect.Span) error {
	if g, ok := r.Mem.(inspect.Gatherer); ok {
		return g.ReadSpans(spans)
	}
	for _, sp := range spans {
		if _, err := r.Mem.ReadMemory(sp.Buf, sp.Addr); err != nil {
			return err
		}
	}
	return nil
}

// loadable says Load and LoadAll copy v.
func (v Value) loadable() bool {
	return v.buf == nil && v.g == nil && v.T.Size > 0 && v.T.Size <= maxLoad
}

// LoadAll loads every value of vs, as Load does, in one gathered read:
// the VMAs of a process, a thousand of them with a thread stack each, or
// their segment arrays.
func (r *Reader) LoadAll(vs []Value) []Value {
	out := slices.Clone(vs)
	var size int64
	for _, v := range vs {
		if v.loadable() {
			size += v.T.Size
		}
	}
	if size > maxLoad {
		for i, v := range vs {
			out[i] = v.Load()
		}
		return out
	}
	if !r.charge(size) {
		return out
	}
	buf := make([]byte, size)
	var spans []inspect.Span
	var at int64
	for i, v := range vs {
		if v.loadable() {
			out[i].buf = buf[at : at+v.T.Size : at+v.T.Size]
			spans = append(spans, inspect.Span{Addr: v.Addr, Buf: out[i].buf})
			at += v.T.Size
		}
	}
	if err := r.readSpans(spans); err != nil {
		r.Fail(err)
		return vs
	}
	return out
}

// sub is the part of v at offset off, of type t, loaded if v is.
func (v Value) sub(t *layout.Type, off int64) Value {
	out := Value{r: v.r, T: t, Addr: v.Addr + uint64(off)}
	switch {
	case v.g != nil:
		out.g, out.base = v.g, v.base+off
	case v.buf != nil && off >= 0 && off+t.Size <= int64(len(v.buf)):
		out.buf = v.buf[off : off+t.Size]
	}
	return out
}

// bytes returns n bytes at offset off in v.
func (v Value) bytes(off, n int64) []byte {
	if v.buf != nil && off >= 0 && off+n <= int64(len(v.buf)) {
		return v.buf[off : off+n]
	}
	if v.g != nil {
		if b := v.g.bytes(v.base+off, n); b != nil {
			return b
		}
	}
	b := make([]byte, n)
	if !v.r.charge(n) {
		return b
	}
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
	return v.sub(v.typ(f.Type), f.Off)
}

// Unread is v not read yet: its bytes come from memory again, not from a
// Load or Gather of the record it is part of, so LoadAll can read it with
// others (the per-syscall counters of many threads).
func (v Value) Unread() Value { return Value{r: v.r, T: v.T, Addr: v.Addr} }

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
		return v.sub(elem, int64(i)*elem.Size)
	}
	return v.fail("index of a %s", v.T.Kind)
}

// Data is the address of a slice's or string's elements, not read: a
// slice may be too long to load (the daemon's direct map of the
// partition is gigabytes).
func (v Value) Data() uint64 {
	if v.T.Kind != layout.Slice && v.T.Kind != layout.String {
		v.fail("data of a %s", v.T.Kind)
		return 0
	}
	return v.word(0)
}

// Array is the backing array of a slice, as an array value of its
// length; an array is itself.
func (v Value) Array() Value {
	if v.T.Kind != layout.Slice {
		return v
	}
	n := v.Len()
	elem := v.typ(v.T.Elem)
	return Value{r: v.r, T: &layout.Type{Kind: layout.Array, Len: int64(n), Elem: v.T.Elem, Size: int64(n) * elem.Size}, Addr: v.word(0)}
}

// Elems returns every element of a slice or array, read in one go.
func (v Value) Elems() []Value {
	return v.Array().Load().Each()
}

// Each returns every element of an array (from its loaded bytes if it
// was loaded), or of a slice.
func (v Value) Each() []Value {
	n := v.Len()
	if n == 0 || !v.r.charge(int64(n)*valueSize) {
		return nil
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = v.Index(i)
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
		if n == 0 || !v.r.charge(int64(n)) {
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
// read is kept only if the counter was even and unchanged around it,
// retried within Reader.Wait.
// With fields, only those and Seq are loaded (Gather); whatever else read
// decodes comes from memory, inside the same check. A record that never
// settled within Reader.Tries gives ErrChanging; other read errors are
// returned as they are, ErrBudget without retrying.
func (r *Reader) Stable(rec Value, read func(rec Value), fields ...string) error {
	tries := max(r.Tries, 1)
	var err error
	for i := range tries {
		if i > 0 {
			pause := time.Duration(i*i) * 50 * time.Microsecond
			if r.waited+pause > cmp.Or(r.Wait, DefaultWait) {
				break
			}
			time.Sleep(pause)
			r.waited += pause
		}
		var loaded Value
		if len(fields) > 0 {
			loaded = rec.Gather(append(fields[:len(fields):len(fields)], "Seq")...)
		} else {
			loaded = rec.Load()
		}
		before := loaded.Field("Seq").Uint()
		if err = r.Take(); errors.Is(err, ErrBudget) {
			return err // every try would fail as fast
		} else if err != nil {
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

// StableAll is Stable of records of one type, read together: the fields
// of all in one gathered read, then their counters in another, so that a
// thousand threads cost two system calls, not two thousand. A record
// that was changing is read again alone (Stable), so read(i, rec) may be
// called more than once for one i and must overwrite what it decodes.
func (r *Reader) StableAll(recs []Value, read func(i int, rec Value), fields ...string) []error {
	errs := make([]error, len(recs))
	again := func(i int) { errs[i] = r.Stable(recs[i], func(v Value) { read(i, v) }, fields...) }
	loaded := r.GatherAll(recs, append(fields[:len(fields):len(fields)], "Seq")...)
	if r.Take() != nil { // a torn pointer among them: one by one
		for i := range recs {
			again(i)
		}
		return errs
	}
	before := make([]uint64, len(recs))
	for i, v := range loaded {
		before[i] = v.Field("Seq").Uint()
		if before[i]%2 == 0 {
			read(i, v)
		}
	}
	after := r.GatherAll(recs, "Seq")
	failed := r.Take() != nil
	for i, v := range after {
		if failed || before[i]%2 == 1 || v.Field("Seq").Uint() != before[i] {
			again(i)
		}
	}
	return errs
}
