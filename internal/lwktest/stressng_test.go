package lwktest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
)

// TestStressNG runs each stressor for a second under mcexec, on one LWK
// CPU with -O, and requires what stress-ng requires natively: a run that
// completes, exit code 0, no failed stressor.
func TestStressNG(t *testing.T) {
	sng, err := exec.LookPath("stress-ng")
	if err != nil {
		t.Skip("stress-ng is not installed (scripts/deps.sh)")
	}
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "1G", "-O")
	base := in.Status().MemFree
	for _, s := range testprog.Stressors {
		t.Run(s, func(t *testing.T) {
			dir := t.TempDir()
			cmd := in.Mcexec(sng, "--"+s, "1", "-t", "1s", "--temp-path", dir, "--metrics-brief")
			r := Run(cmd, "")
			if r.Code != 0 || !strings.Contains(r.Stderr+r.Stdout, "successful run completed") {
				t.Errorf("stress-ng --%s: %v", s, r)
			}
			in.WaitIdle(base)
		})
	}
}
