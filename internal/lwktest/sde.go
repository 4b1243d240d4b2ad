package lwktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// sdeHeader is libpapi-dev's; without it there is no sde library to build
// and the PAPI tests skip.
const sdeHeader = "/usr/include/sde_lib.h"

// buildSDE builds libgomck_sde.so into dir as make does, beside mcexec,
// which preloads it from there.
func buildSDE(root, dir string) error {
	if _, err := os.Stat(sdeHeader); err != nil {
		return nil
	}
	cmd := exec.Command("gcc", "-O2", "-Wall", "-fPIC", "-shared", "-o", filepath.Join(dir, "libgomck_sde.so"),
		filepath.Join(root, "perf/sde/lib/lwk_sde.c"), "-lsde")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build libgomck_sde.so: %v\n%s", err, b)
	}
	return nil
}
