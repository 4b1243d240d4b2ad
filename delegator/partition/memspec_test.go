package partition

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMemSpec(t *testing.T) {
	const M, G = int64(1 << 20), int64(1 << 30)
	tests := []struct {
		in      string
		want    []MemChunk
		wantErr string
	}{
		{in: "512M", want: []MemChunk{{512 * M, -1}}},
		{in: "512m", want: []MemChunk{{512 * M, -1}}},
		{in: "2G@0", want: []MemChunk{{2 * G, 0}}},
		{in: "512M@0,512M@1", want: []MemChunk{{512 * M, 0}, {512 * M, 1}}},
		{in: "1T", want: []MemChunk{{1 << 40, -1}}},
		{in: "2048k", want: []MemChunk{{2 * M, -1}}},
		{in: "1K", want: []MemChunk{{2 * M, -1}}},           // rounded up to 2 MiB
		{in: "3M", want: []MemChunk{{4 * M, -1}}},           // rounded up to 2 MiB
		{in: "4194304", want: []MemChunk{{4 * M, -1}}},      // plain bytes
		{in: "1g@3, 1G", want: []MemChunk{{G, 3}, {G, -1}}}, // spaces around parts
		{in: "12X", wantErr: `bad memory size "12X"`},
		{in: "", wantErr: "empty"},
		{in: "0M", wantErr: "greater than zero"},
		{in: "M", wantErr: "not a number"},
		{in: "-1G", wantErr: "not a number"},
		{in: "1.5G", wantErr: "not a number"},
		{in: "512M,", wantErr: "empty"},
		{in: "512M@", wantErr: "bad NUMA node"},
		{in: "512M@-1", wantErr: "bad NUMA node"},
		{in: "512M@x", wantErr: "bad NUMA node"},
		{in: "99999999999T", wantErr: "too large"},
	}
	for _, tt := range tests {
		got, err := ParseMemSpec(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMemSpec(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseMemSpec(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{100, "100"},
		{4096, "4K"},
		{512 << 20, "512M"},
		{1 << 30, "1G"},
		{1536 << 20, "1536M"},
		{3 << 40, "3T"},
		{(1 << 40) + (2 << 20), "1048578M"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// Every size ParseMemSpec can produce survives FormatSize and back.
func TestFormatSizeRoundTrip(t *testing.T) {
	for _, n := range []int64{2 << 20, 4 << 20, 510 << 20, 1 << 30, 1536 << 20, 3<<30 + 2<<20, 5 << 40} {
		s := FormatSize(n)
		got, err := ParseMemSpec(s)
		if err != nil || len(got) != 1 || got[0].Size != n {
			t.Errorf("ParseMemSpec(FormatSize(%d) = %q) = %v, %v", n, s, got, err)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{64 << 30, "64G"},
		{22*(1<<30) + 110<<20, "22.1G"},
		{1536 << 20, "1.5G"},
		{1000, "1000"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.in); got != tt.want {
			t.Errorf("humanSize(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
