package cli

import "testing"

func TestParseAddr(t *testing.T) {
	for s, want := range map[string]uint64{"7f0000001000": 0x7f0000001000, "0x400000": 0x400000, " 0XFF ": 0xff, "10": 0x10} {
		if got, err := ParseAddr(s); err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %#x, %v; want %#x", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0x", "zz", "-1", "0x1ffffffffffffffff"} {
		if _, err := ParseAddr(s); err == nil {
			t.Errorf("ParseAddr(%q) accepted", s)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	f.Add("0x7f0000001000")
	f.Fuzz(func(t *testing.T, s string) {
		ParseAddr(s)
	})
}
