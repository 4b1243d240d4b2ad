package partition

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestKeepInCoreDumps(t *testing.T) {
	old, err := os.ReadFile(coredumpFilter)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.WriteFile(coredumpFilter, []byte("0x"+strings.TrimSpace(string(old))), 0) })
	for _, tc := range []struct{ inherited, want uint64 }{
		{0x31, 0x33}, // shared memory left out: put back
		{0x33, 0x33}, // Linux's default
		{0x1fd, 0x1ff},
	} {
		if err := os.WriteFile(coredumpFilter, fmt.Appendf(nil, "%#x", tc.inherited), 0); err != nil {
			t.Fatal(err)
		}
		if err := KeepInCoreDumps(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(coredumpFilter)
		if got := strings.TrimSpace(string(b)); got != fmt.Sprintf("%08x", tc.want) {
			t.Errorf("filter %#x became %s, want %#x", tc.inherited, got, tc.want)
		}
	}
}
