package main

// The PAPI figure (issue 17), in the main instance after the noise run:
// testdata/c/papi -t N, linked with Debian's libpapi and run under mcexec
// (which preloads libgomck_sde.so), times N PAPI_reads of
// sde:::lwk::syscalls_offloaded, a load from the counters page the kernel
// maps:
//
//  19. ns per PAPI_read; target < 100 ns (no system call in a read).

import (
	"errors"
	"fmt"
	"os"

	"github.com/gomck/gomck/internal/testprog"
)

// papiReads is how many PAPI_reads figure 19 times in each round.
const papiReads = 1000000

// papiNeeds is choose's table for figure 19.
func (b *bench) papiNeeds() map[string][]*series {
	return map[string][]*series{"papi_read_ns": {&b.papiRead}}
}

// measurePAPI adds a timed run of PAPI_reads under mcexec; without
// libpapi-dev (scripts/deps.sh) or after a failure it is not run.
func (b *bench) measurePAPI() {
	s := &b.papiRead
	if s.skip || s.err != nil {
		return
	}
	if _, err := os.Stat("/usr/include/sde_lib.h"); err != nil {
		s.add(0, errors.New("libpapi-dev is not installed (scripts/deps.sh)"))
		return
	}
	prog, err := testprog.CDynamic("papi")
	if err != nil {
		s.add(0, err)
		return
	}
	s.add(nsPer("LWK PAPI_read", -1, b.inst.mcexec(b.ctx, prog, "-t", fmt.Sprint(papiReads), "sde:::lwk::syscalls_offloaded")))
}

// papiFigure is figure 19.
func (b *bench) papiFigure() Figure {
	return limitFig("papi_read_ns", "PAPI_read of an sde:::lwk event under mcexec (libgomck_sde.so)", "ns/op", &b.papiRead, 100, "< 100 ns")
}
