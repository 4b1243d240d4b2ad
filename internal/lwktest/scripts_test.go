package lwktest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScripts runs "#!" scripts as mcexec's initial program, as execve
// runs them: the interpreter with its one optional argument, the script's
// path and the arguments, through an interpreter that is a script itself;
// output and exit code compared with the native run. Too many nested
// interpreters and a missing one fail as natively.
func TestScripts(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	dir := t.TempDir()
	script := func(name, text string) string { return writeFile(t, dir, name, []byte(text), 0o755) }
	sh := script("sh.sh", "#!/bin/sh\necho \"$0 | $*\"\nexit 3\n")
	nested := script("nested", "#!"+sh+" one arg\n")
	// deeper[i] is i+3 scripts deep: Linux's limit lies among them.
	deeper := []string{nested}
	for i := range 4 {
		deeper = append(deeper, script(fmt.Sprint("deep", i), "#!"+deeper[i]+"\n"))
	}
	deep := deeper[len(deeper)-1]
	missing := script("missing", "#!/nonexistent/interpreter\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plain", []string{sh, "a", "b c"}},
		{"nested", []string{nested, "x"}},
	} {
		native, lwk := Run(exec.Command(tc.args[0], tc.args[1:]...), ""), Run(in.Mcexec(tc.args...), "")
		if native.Code != 3 || lwk.Stdout != native.Stdout || lwk.Code != native.Code {
			t.Errorf("%s: native %v, LWK %v", tc.name, native, lwk)
		}
	}
	for _, path := range deeper[1:] {
		native, lwk := Run(exec.Command(path), ""), Run(in.Mcexec(path), "")
		if (native.Code == 3) != (lwk.Code == 3) || native.Code == 3 && lwk.Stdout != native.Stdout {
			t.Errorf("%s: native %v, LWK %v", filepath.Base(path), native, lwk)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{deep, "too many levels of symbolic links"}, // ELOOP, as execve says
		{missing, "no such file"},
	} {
		if err := exec.Command(tc.path).Run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s natively: %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
		if res := Run(in.Mcexec(tc.path), ""); res.Code == 0 || !strings.Contains(strings.ToLower(res.Stderr), tc.want) {
			t.Errorf("%s under mcexec: %v, want %q", filepath.Base(tc.path), res, tc.want)
		}
	}
}
