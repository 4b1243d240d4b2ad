package control

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The binary wire: a message is its kind byte, then its fields in a fixed
// order. Unsigned numbers are uvarints, signed ones zigzag varints, bools
// one byte (0 or 1), strings, byte slices and slices a uvarint length and
// then their contents. The kind byte makes a message of another type (or
// JSON, which starts with '{') fail to decode instead of being misread.
// Kinds are printable letters: byte 0 starts Conn's announcement of a
// large message.

// Kinds of the control package's messages.
const (
	kindRequest  = 'Q'
	kindResponse = 'R'
)

// Encoder appends a binary message's fields.
type Encoder []byte

// NewEncoder starts a message of kind after b.
func NewEncoder(b []byte, kind byte) Encoder { return append(b, kind) }

// Uint appends v.
func (e *Encoder) Uint(v uint64) { *e = binary.AppendUvarint(*e, v) }

// Int appends v.
func (e *Encoder) Int(v int) { *e = binary.AppendVarint(*e, int64(v)) }

// Bool appends v.
func (e *Encoder) Bool(v bool) {
	var b byte
	if v {
		b = 1
	}
	*e = append(*e, b)
}

// Str appends s.
func (e *Encoder) Str(s string) {
	e.Uint(uint64(len(s)))
	*e = append(*e, s...)
}

// Bytes appends b.
func (e *Encoder) Bytes(b []byte) {
	e.Uint(uint64(len(b)))
	*e = append(*e, b...)
}

// EncodeSlice appends s, each element with put.
func EncodeSlice[T any](e *Encoder, s []T, put func(*Encoder, T)) {
	e.Uint(uint64(len(s)))
	for _, v := range s {
		put(e, v)
	}
}

// Decoder reads a binary message's fields. The first error sticks: later
// reads return zero values, and Finish reports it.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder starts reading b, a message that must be of kind.
func NewDecoder(b []byte, kind byte) Decoder {
	d := Decoder{buf: b}
	switch {
	case len(b) == 0:
		d.err = errors.New("empty message")
	case b[0] != kind:
		d.err = fmt.Errorf("message of kind %#x, want %q (a peer of another build?)", b[0], kind)
	default:
		d.off = 1
	}
	return d
}

// fail records err at the current offset unless an error came first.
func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d of %d", what, d.off, len(d.buf))
	}
}

// Uint reads an unsigned number.
func (d *Decoder) Uint() uint64 { return number(d, binary.Uvarint) }

// Int reads a signed number.
func (d *Decoder) Int() int { return int(number(d, binary.Varint)) }

// number reads a varint with read (binary.Uvarint or binary.Varint).
func number[T uint64 | int64](d *Decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad or truncated number")
		return 0
	}
	d.off += n
	return v
}

// Bool reads a bool.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if d.off == len(d.buf) || d.buf[d.off] > 1 {
		d.fail("bad or truncated bool")
		return false
	}
	d.off++
	return d.buf[d.off-1] == 1
}

// count reads a length whose items take at least size bytes each, so that
// garbage cannot claim more than the message holds.
func (d *Decoder) count(size int) int {
	n := d.Uint()
	if n > uint64((len(d.buf)-d.off)/size) {
		d.fail(fmt.Sprintf("length %d beyond the message's end", n))
		return 0
	}
	return int(n)
}

// raw returns the next counted bytes, which alias the message.
func (d *Decoder) raw() []byte {
	n := d.count(1)
	d.off += n
	return d.buf[d.off-n : d.off]
}

// Str reads a string.
func (d *Decoder) Str() string { return string(d.raw()) }

// Bytes reads a byte slice, nil when empty. It is a copy: Conn reuses the
// buffer it receives into.
func (d *Decoder) Bytes() []byte {
	if b := d.raw(); len(b) > 0 {
		return append([]byte(nil), b...)
	}
	return nil
}

// DecodeSlice reads a slice that EncodeSlice wrote, nil when empty; each
// element takes at least minSize bytes and is read with get.
func DecodeSlice[T any](d *Decoder, minSize int, get func(*Decoder) T) []T {
	n := d.count(minSize)
	if n == 0 {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = get(d)
	}
	return s
}

// Finish reports the first error, or bytes left after the last field.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.buf) {
		d.fail("trailing data")
	}
	return d.err
}

// Store stores v, the message d decoded, in dst once Finish reports no
// error; what names the message in the error.
func Store[T any](d *Decoder, dst *T, v T, what string) error {
	if err := d.Finish(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	*dst = v
	return nil
}

// AppendBinary encodes r for the wire.
func (r Request) AppendBinary(b []byte) ([]byte, error) {
	e := NewEncoder(b, kindRequest)
	e.Str(r.Op)
	EncodeSlice(&e, r.Argv, (*Encoder).Str)
	EncodeSlice(&e, r.Env, (*Encoder).Str)
	e.Str(r.Exe)
	for _, v := range r.Cred {
		e.Int(v)
	}
	e.Uint(r.HeapExtend)
	e.Int(r.ProxyPID)
	e.Int(r.ParentPID)
	EncodeSlice(&e, r.Rlimits, func(e *Encoder, l [2]uint64) { e.Uint(l[0]); e.Uint(l[1]) })
	e.Int(r.Signal)
	e.Int(r.PID)
	e.Uint(r.Token)
	e.Bool(r.Profile)
	e.Int(r.PPN)
	e.Int(r.LocalRank)
	return e, nil
}

// UnmarshalBinary decodes what AppendBinary encoded.
func (r *Request) UnmarshalBinary(b []byte) error {
	d := NewDecoder(b, kindRequest)
	m := Request{ // fields are read in order: operands evaluate left to right
		Op:         d.Str(),
		Argv:       DecodeSlice(&d, 1, (*Decoder).Str),
		Env:        DecodeSlice(&d, 1, (*Decoder).Str),
		Exe:        d.Str(),
		Cred:       [4]int{d.Int(), d.Int(), d.Int(), d.Int()},
		HeapExtend: d.Uint(),
		ProxyPID:   d.Int(),
		ParentPID:  d.Int(),
		Rlimits:    DecodeSlice(&d, 2, func(d *Decoder) [2]uint64 { return [2]uint64{d.Uint(), d.Uint()} }),
		Signal:     d.Int(),
		PID:        d.Int(),
		Token:      d.Uint(),
		Profile:    d.Bool(),
		PPN:        d.Int(),
		LocalRank:  d.Int(),
	}
	return Store(&d, r, m, "request")
}

// AppendBinary encodes r for the wire.
func (r Response) AppendBinary(b []byte) ([]byte, error) {
	e := NewEncoder(b, kindResponse)
	e.Bool(r.OK)
	e.Str(r.Error)
	e.Str(r.Text)
	e.Int(r.PID)
	e.Int(r.ExitCode)
	e.Int(r.ExitSignal)
	e.Bool(r.Ended)
	EncodeSlice(&e, r.Segments, func(e *Encoder, s Segment) { e.Uint(s.VA); e.Uint(s.Len); e.Uint(s.Off) })
	e.Bytes(r.Data)
	putProfile(&e, r.Profile)
	return e, nil
}

// UnmarshalBinary decodes what AppendBinary encoded.
func (r *Response) UnmarshalBinary(b []byte) error {
	d := NewDecoder(b, kindResponse)
	m := Response{ // fields are read in order: operands evaluate left to right
		OK:         d.Bool(),
		Error:      d.Str(),
		Text:       d.Str(),
		PID:        d.Int(),
		ExitCode:   d.Int(),
		ExitSignal: d.Int(),
		Ended:      d.Bool(),
		Segments:   DecodeSlice(&d, 3, func(d *Decoder) Segment { return Segment{VA: d.Uint(), Len: d.Uint(), Off: d.Uint()} }),
		Data:       d.Bytes(),
		Profile:    getProfile(&d),
	}
	return Store(&d, r, m, "response")
}
