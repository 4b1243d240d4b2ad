package partition

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "1", want: []int{1}},
		{in: "1,3", want: []int{1, 3}},
		{in: "0-3,6", want: []int{0, 1, 2, 3, 6}},
		{in: "6,0-3", want: []int{0, 1, 2, 3, 6}},
		{in: "2-3,3,1-2", want: []int{1, 2, 3}},
		{in: "0-1\n", want: []int{0, 1}},
		{in: " 4 , 5 ", want: []int{4, 5}},
		{in: "7-7", want: []int{7}},
		{in: "", wantErr: "empty"},
		{in: "  \n", wantErr: "empty"},
		{in: "-1", wantErr: "negative"},
		{in: "1,-2", wantErr: "negative"},
		{in: "3-1", wantErr: "reversed"},
		{in: "a", wantErr: "bad CPU number"},
		{in: "1,,2", wantErr: "empty element"},
		{in: "1,", wantErr: "empty element"},
		{in: "1-", wantErr: "bad range"},
		{in: "1-2-3", wantErr: "bad CPU number"},
		{in: "+1", wantErr: "bad CPU number"},
		{in: "0x1", wantErr: "bad CPU number"},
		{in: "0-99999999", wantErr: "out of range"},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCPUList(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatCPUList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 3, 6}, "0-3,6"},
		{[]int{6, 3, 2, 1, 0, 3}, "0-3,6"},
		{[]int{1, 3, 5}, "1,3,5"},
		{[]int{0, 2, 3, 4, 8, 9}, "0,2-4,8-9"},
	}
	for _, tt := range tests {
		if got := FormatCPUList(tt.in); got != tt.want {
			t.Errorf("FormatCPUList(%v) = %q; want %q", tt.in, got, tt.want)
		}
		if len(tt.in) == 0 {
			continue
		}
		back, err := ParseCPUList(tt.want)
		want := slices.Compact(slices.Sorted(slices.Values(tt.in)))
		if err != nil || !slices.Equal(back, want) {
			t.Errorf("round trip of %v via %q = %v, %v", tt.in, tt.want, back, err)
		}
	}
}
