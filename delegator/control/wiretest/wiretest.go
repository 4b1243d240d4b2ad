// Package wiretest checks a message type's binary encoding on control's
// wire: the checks that the control package's tests and mcexec's link
// tests both make. It is for tests only.
package wiretest

import (
	"encoding"
	"reflect"
	"testing"
)

// Message is a pointer to a message with a binary encoding.
type Message interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

// Check encodes msg after other bytes, which it must keep, and decodes the
// encoding into zero() to msg again; every truncation of the encoding, a
// trailing byte, another kind byte and JSON must fail to decode. It
// returns the encoding.
func Check(t *testing.T, msg Message, zero func() Message) []byte {
	t.Helper()
	prefix := []byte("kept")
	b, err := msg.AppendBinary(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:len(prefix)]) != "kept" {
		t.Fatalf("AppendBinary changed what it appends to: %q", b)
	}
	b = b[len(prefix):]
	got := zero()
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, msg) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, msg)
	}
	for n := range len(b) {
		if err := zero().UnmarshalBinary(b[:n]); err == nil {
			t.Errorf("%d of %d bytes: no error", n, len(b))
		}
	}
	other := byte('X')
	if b[0] == other {
		other = 'Y'
	}
	bad := map[string][]byte{
		"trailing byte": append(b[:len(b):len(b)], 0),
		"other kind":    append([]byte{other}, b[1:]...),
		"json":          []byte(`{"op":"exec"}`),
	}
	for name, in := range bad {
		if err := zero().UnmarshalBinary(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	return b
}
