package testprog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWaitReady(t *testing.T) {
	for _, tc := range []struct {
		out   string
		words []string // nil: not ready
		plain bool     // what WaitReady accepts
	}{
		{"ready\n", []string{}, true},
		{"ready\nmore\n", []string{}, true},
		{"ready 4c6f20 20000\n", []string{"4c6f20", "20000"}, false},
		{"readying\n", nil, false},
		{"error: no\n", nil, false},
		{"ready", nil, false}, // the line never ended
	} {
		words, err := WaitReadySaying(strings.NewReader(tc.out), time.Second)
		if (err == nil) != (tc.words != nil) || !slices.Equal(words, tc.words) {
			t.Errorf("WaitReadySaying(%q) = %q, %v; want %q", tc.out, words, err, tc.words)
		}
		if err := WaitReady(strings.NewReader(tc.out), time.Second); (err == nil) != tc.plain {
			t.Errorf("WaitReady(%q) = %v", tc.out, err)
		}
	}
}
