package lwktest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/mcexec"
	"github.com/gomck/gomck/perf/sde"
)

// The calls papi.c makes between PAPI_start and PAPI_read.
const papiGetpids, papiWrites = 1000, 37

// needPAPI skips a test where Debian's PAPI is not installed.
func needPAPI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sdeHeader); err != nil {
		t.Skip("libpapi-dev is not installed (scripts/deps.sh installs it)")
	}
	if _, err := exec.LookPath("papi_native_avail"); err != nil {
		t.Skip("papi-tools is not installed (scripts/deps.sh installs it)")
	}
}

// TestPAPI runs a program linked with Debian's libpapi under mcexec, which
// preloads libgomck_sde.so: the sde:::lwk:: events count exactly the local
// and offloaded calls made between PAPI_start and PAPI_read;
// papi_native_avail lists the events; natively, PAPI refuses them as it
// does for any event no library registered.
func TestPAPI(t *testing.T) {
	needPAPI(t)
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O") // -O: papi -j's second thread
	prog := testprog.MustCDynamic(t, "papi")
	events := []string{"sde:::lwk::syscalls_local", "sde:::lwk::syscalls_offloaded"}
	args := append([]string{prog, fmt.Sprint(papiGetpids), fmt.Sprint(papiWrites)}, events...)

	t.Run("counts", func(t *testing.T) {
		res := Run(in.Mcexec(args...), "")
		want := fmt.Sprintf("%s %d\n%s %d\n", events[0], papiGetpids, events[1], papiWrites)
		if res.Code != 0 || res.Stdout != want {
			t.Fatalf("under mcexec: %v; want stdout %q", res, want)
		}
	})
	t.Run("maps", func(t *testing.T) {
		res := Run(in.Mcexec("/bin/cat", "/proc/self/maps"), "")
		if res.Code != 0 || strings.Count(res.Stdout, " "+sde.PageName+"\n") != 1 {
			t.Errorf("/proc/self/maps under mcexec does not name the counters page once: %v", res)
		}
	})
	// The calls of a thread that ended count: the events are the
	// process's. Making and ending the thread takes local calls of its
	// own (clone3, mmap, futex, ...), no offloaded one.
	t.Run("ended thread", func(t *testing.T) {
		res := Run(in.Mcexec(append([]string{prog, "-j"}, args[1:]...)...), "")
		var local, offloaded int
		if _, err := fmt.Sscanf(res.Stdout, events[0]+" %d\n"+events[1]+" %d\n", &local, &offloaded); err != nil || res.Code != 0 {
			t.Fatalf("papi -j under mcexec: %v (%v)", res, err)
		}
		if local < papiGetpids || local > papiGetpids+50 || offloaded != papiWrites {
			t.Errorf("papi -j: %d local and %d offloaded calls; want %d local and a few more, %d offloaded", local, offloaded, papiGetpids, papiWrites)
		}
	})
	t.Run("every event", func(t *testing.T) {
		all := []string{prog, "0", "0"}
		for _, e := range sde.Events() {
			all = append(all, "sde:::lwk::"+e.Name)
		}
		res := Run(in.Mcexec(all...), "")
		if res.Code != 0 || strings.Count(res.Stdout, "\n") != len(all)-3 || strings.Contains(res.Stdout, "PAPI") {
			t.Fatalf("every event under mcexec: %v", res)
		}
	})
	t.Run("papi_native_avail", func(t *testing.T) {
		res := Run(in.Mcexec("papi_native_avail"), "")
		if res.Code != 0 {
			t.Fatalf("mcexec papi_native_avail: %v", res)
		}
		for _, e := range sde.Events() {
			if !strings.Contains(res.Stdout, "sde:::lwk::"+e.Name) {
				t.Errorf("mcexec papi_native_avail lists no sde:::lwk::%s:\n%s", e.Name, res.Stdout)
			}
		}
	})
	// No PMU here: PAPI's perf_event components say so under mcexec as
	// natively; sde, disabled natively (no library), is active.
	t.Run("papi_component_avail", func(t *testing.T) {
		native := Run(exec.Command("papi_component_avail"), "")
		res := Run(in.Mcexec("papi_component_avail"), "")
		if res.Code != native.Code {
			t.Fatalf("mcexec papi_component_avail: %v; natively %v", res, native)
		}
		perfEvent := func(out string) string {
			_, compiled, _ := strings.Cut(out, "Compiled-in components:")
			compiled, _, _ = strings.Cut(compiled, "Name:   sde")
			return compiled
		}
		if got, want := perfEvent(res.Stdout), perfEvent(native.Stdout); got != want || !strings.Contains(want, "perf_event") {
			t.Errorf("perf_event components under mcexec:\n%s\nnatively:\n%s", got, want)
		}
		_, active, _ := strings.Cut(res.Stdout, "Active components:")
		if !strings.Contains(active, "Name:   sde") {
			t.Errorf("sde is not an active component under mcexec:\n%s", res.Stdout)
		}
	})
	t.Run("turned off", func(t *testing.T) {
		cmd := in.Mcexec(args...)
		cmd.Env = append(cmd.Environ(), mcexec.NoSDEEnv+"=1")
		native := Run(exec.Command(args[0], args[1:]...), "")
		res := Run(cmd, "")
		if res.Stdout != native.Stdout || res.Code != native.Code {
			t.Errorf("under mcexec with %s=1: %v; want as native: %v", mcexec.NoSDEEnv, res, native)
		}
	})
	t.Run("native", func(t *testing.T) {
		res := Run(exec.Command(args[0], args[1:]...), "")
		want := events[0] + ": Event does not exist (-7)\n"
		if res.Code != 0 || res.Stdout != want {
			t.Errorf("natively: %v; want stdout %q, PAPI's answer for an event no library registered", res, want)
		}
	})
}
