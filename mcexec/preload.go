package mcexec

import (
	"os"
	"path/filepath"
	"strings"
)

// SDELibrary is the PAPI sde:::lwk:: library (perf/sde) mcexec preloads
// into dynamic programs when it lies beside mcexec; NoSDEEnv=1 in
// mcexec's environment turns that off.
const (
	SDELibrary = "libgomck_sde.so"
	NoSDEEnv   = "MCEXEC_NO_SDE"
)

// preloadEnv returns the app's environment: env with SDELibrary added in
// front of LD_PRELOAD (a static program ignores it).
func preloadEnv(env []string) []string {
	if os.Getenv(NoSDEEnv) == "1" {
		return env
	}
	self, err := os.Executable()
	if err != nil {
		return env
	}
	lib := filepath.Join(filepath.Dir(self), SDELibrary)
	if _, err := os.Stat(lib); err != nil {
		return env
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LD_PRELOAD="); ok && v != "" {
			lib += ":" + v
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LD_PRELOAD="+lib)
}
