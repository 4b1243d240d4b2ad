package kmsg

import (
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	r := New()
	r.Printf("booted %d", 1)
	if s := r.String(); !strings.HasSuffix(s, "] booted 1\n") || !strings.HasPrefix(s, "[    0.") {
		t.Fatalf("got %q", s)
	}
	r.Clear()
	if s := r.String(); s != "" {
		t.Fatalf("after clear: %q", s)
	}
}

func TestRingWrap(t *testing.T) {
	r := New()
	for i := 0; i < 20000; i++ {
		r.Printf("line %06d", i)
	}
	s := r.String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if !strings.HasSuffix(lines[len(lines)-1], "line 019999") {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "[") {
			t.Fatalf("torn line %q", l)
		}
	}
	if len(s) > Size {
		t.Fatalf("decoded %d bytes > ring size", len(s))
	}
}
