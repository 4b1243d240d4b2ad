package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		s := series{samples: tc.in}
		if got := s.median(); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNsRE(t *testing.T) {
	for out, want := range map[string]string{"ns/op 31234.5\n": "31234.5", "ns/page 812.0\n": "812.0", "ns/op x\n": ""} {
		m := nsRE.FindStringSubmatch(out)
		if got := ""; m != nil {
			got = m[1]
			if got != want {
				t.Errorf("%q: got %q, want %q", out, got, want)
			}
		} else if want != "" {
			t.Errorf("%q: no match, want %q", out, want)
		}
	}
}

// TestOnCPU checks that a child started under onCPU inherits the binding,
// which the native measurements rely on.
func TestOnCPU(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpu = c
		}
	}
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	var out []byte
	err := onCPU(cpu, func() error {
		var err error
		out, err = cmd.Output()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Cpus_allowed_list:\s+` + strconv.Itoa(cpu) + `\n`).Match(out) {
		t.Errorf("child on CPU %d reports %q", cpu, out)
	}
}
