package main

import (
	"slices"
	"testing"
)

// TestCompleter completes command names, and help's argument.
func TestCompleter(t *testing.T) {
	c := completer()
	for _, tc := range []struct {
		line string
		want []string // what each candidate adds
	}{
		{"he", []string{"lp "}},
		{"sy", []string{"m ", "s "}},
		{"help b", []string{"t "}},
		{"kmem", []string{" "}},
		{"zz", nil},
	} {
		got, _ := c.Do([]rune(tc.line), len(tc.line))
		var adds []string
		for _, g := range got {
			adds = append(adds, string(g))
		}
		slices.Sort(adds)
		if !slices.Equal(adds, tc.want) {
			t.Errorf("completing %q: %q, want %q", tc.line, adds, tc.want)
		}
	}
}
