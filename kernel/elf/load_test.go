package elf

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func hostBinary(t testing.TB) []byte {
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	good := hostBinary(t)
	mut := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" = accepted
	}{
		{"host", good, ""},
		{"empty", nil, "not an ELF"},
		{"text", []byte("#!/bin/sh\necho\n"), "not an ELF"},
		{"32-bit", mut(4, 1), "32-bit"},
		{"arm64", mut(18, 183, 0), "not x86-64"},
		{"relocatable", mut(16, 1, 0), "not executable"},
		{"truncated", good[:100], "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(bytes.NewReader(tc.data))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// FuzzCheck: any bytes give an executable or an error, never a panic.
func FuzzCheck(f *testing.F) {
	f.Add(hostBinary(f))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := Check(bytes.NewReader(data))
		if err == nil {
			Interp(ef)
		}
	})
}
