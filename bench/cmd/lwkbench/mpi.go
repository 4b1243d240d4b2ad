package main

// The MPI figures (issue 19): testdata/c/mpipingpong, an OSU-style
// ping-pong between two ranks of Debian's Open MPI, under
// `mpirun -n 2 mcexec -n 2` in the two-CPU instance (one rank per LWK
// CPU; on a 2-CPU machine CPUs shared with Linux) and natively on the same
// CPUs in the host rounds, once over TCP and once over the shared-memory
// transports (vader), which need the LWK's writable shared file mappings:
//
//   - mpi_latency_tcp, mpi_latency_shm: 8 B one-way latency; target
//     <= 1.2x native.
//   - mpi_bandwidth_tcp, mpi_bandwidth_shm: 1 MiB messages, as ns per
//     message one way (the bandwidth inverted, so that LWK/native is the
//     slowdown); target bandwidth >= 0.9x native, so <= 1/0.9x.

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

// mpiMessages are the ping-pong's message sizes and round trips: the
// latency's and the bandwidth's.
var mpiMessages = [2]struct {
	size, iters int
}{{8, 10000}, {1 << 20, 500}}

// mpiTransports are the ping-pong's transports: TCP, then shared memory.
var mpiTransports = [2]struct {
	name string
	tcp  bool
}{{"tcp", true}, {"shm", false}}

// mpiSeries are ns per message one way, by transport and message size.
type mpiSeries struct {
	lwk, native [len(mpiTransports)][len(mpiMessages)]series
}

func (s *mpiSeries) all(native bool) []*series {
	var out []*series
	for t := range mpiTransports {
		for m := range mpiMessages {
			if native {
				out = append(out, &s.native[t][m])
			} else {
				out = append(out, &s.lwk[t][m])
			}
		}
	}
	return out
}

// mpiFigureIDs are the figures' IDs by message size, with the transport
// appended.
var mpiFigureIDs = [len(mpiMessages)]string{"mpi_latency_", "mpi_bandwidth_"}

// mpiNeeds is choose's table for the MPI figures.
func (b *bench) mpiNeeds() map[string][]*series {
	needs := map[string][]*series{}
	for t, tr := range mpiTransports {
		for m := range mpiMessages {
			needs[mpiFigureIDs[m]+tr.name] = []*series{&b.mpi.lwk[t][m], &b.mpi.native[t][m]}
		}
	}
	return needs
}

// pingpongRE reads mpipingpong's line.
var pingpongRE = regexp.MustCompile(`(?m)^\d+ B: ([0-9.]+) us one-way`)

// mpiPingpong runs mpipingpong under cmd (an mpirun) and returns its ns
// per message one way.
func mpiPingpong(label string, cmd *exec.Cmd) (float64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCmd(-1, cmd); err != nil {
		return 0, fmt.Errorf("%s failed: %v: %s", label, err, lastLines(out.String(), 5))
	}
	m := pingpongRE.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("%s: no latency in %q", label, lastLines(out.String(), 5))
	}
	us, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", label, err)
	}
	progressf("  %-24s %10.1f ns", label, us*1e3)
	return us * 1e3, nil
}

// lastLines is the end of a program's output, for an error message.
func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}

// mpiCmd prepares mpirun of the ping-pong on the pair's CPUs, one rank
// each, with mcexec -n 2 before it when mcexec is not "". Natively each
// rank is bound to its core, as OSU runs; under mcexec the LWK places the
// ranks, and mcexec is left unbound, so that its workers are not pinned
// to the host CPU of the LWK CPU that waits for them (McKernel binds
// mcexec to Linux CPUs; a 2-CPU machine has none to spare).
func (b *bench) mpiCmd(tcp bool, size, iters int, mcexec string) (*exec.Cmd, error) {
	prog, err := testprog.MPI("openmpi", "mpipingpong")
	if err != nil {
		return nil, err
	}
	argv := []string{prog, strconv.Itoa(size), strconv.Itoa(iters)}
	cpus := []string{"--cpu-set", partition.FormatCPUList(b.pair), "--bind-to", "core"}
	if mcexec != "" {
		argv = append([]string{mcexec, "-n", "2"}, argv...)
		cpus = []string{"--bind-to", "none"}
	}
	return testprog.MPIRun(b.ctx, "openmpi", tcp, 2, append(cpus, argv...)...), nil
}

// mpiAvailable says why Open MPI cannot run here, or nil.
func mpiAvailable() error {
	if _, err := exec.LookPath("mpirun.openmpi"); err != nil {
		return errors.New("mpirun.openmpi is not installed (scripts/deps.sh: openmpi-bin, libopenmpi-dev)")
	}
	return nil
}

// mpiHost takes the native samples, in each host round.
func (b *bench) mpiHost(take func(measure func() ([]float64, error), ss ...*series) bool) bool {
	if b.pair == nil {
		return true
	}
	for t, tr := range mpiTransports {
		for m, msg := range mpiMessages {
			label := fmt.Sprintf("native mpi %s %d B", tr.name, msg.size)
			if !take(func() ([]float64, error) {
				if err := mpiAvailable(); err != nil {
					return nil, err
				}
				cmd, err := b.mpiCmd(tr.tcp, msg.size, msg.iters, "")
				if err != nil {
					return nil, err
				}
				return one(mpiPingpong(label, cmd))
			}, &b.mpi.native[t][m]) {
				return false
			}
		}
	}
	return true
}

// measureMPI takes the LWK's samples in the two-CPU instance; a transport
// that failed is not run again (a hung run costs runTimeout).
func (b *bench) measureMPI() {
	for t, tr := range mpiTransports {
		for m, msg := range mpiMessages {
			s := &b.mpi.lwk[t][m]
			if s.skip || s.err != nil {
				continue
			}
			if err := b.mpi.lwk[t][1-m].err; err != nil {
				s.add(0, err)
				continue
			}
			if err := mpiAvailable(); err != nil {
				s.add(0, err)
				continue
			}
			cmd, err := b.mpiCmd(tr.tcp, msg.size, msg.iters, filepath.Join(b.inst.bin, "mcexec"))
			if err != nil {
				s.add(0, err)
				continue
			}
			s.add(mpiPingpong(fmt.Sprintf("LWK mpi %s %d B", tr.name, msg.size), cmd))
		}
	}
}

// mpiFigures are the MPI figures.
func (b *bench) mpiFigures(ratioFig func(id, name, unit string, v *series, limit float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	where := ", one rank per LWK CPU"
	if b.shared {
		where += " (shared CPUs)"
	}
	var figs []Figure
	for t, tr := range mpiTransports {
		for m := range mpiMessages {
			id := mpiFigureIDs[m] + tr.name
			if b.pair == nil {
				figs = append(figs, Figure{ID: id, Name: id, Unit: "ns/op", Result: resultSkipped, Skip: b.pairSkip})
				continue
			}
			name := fmt.Sprintf("Open MPI ping-pong over %s, 8 B one-way latency%s", tr.name, where)
			limit, target := 1.2, "<= 1.2x"
			if m == 1 {
				name = fmt.Sprintf("Open MPI ping-pong over %s, 1 MiB messages, ns per message one way (bandwidth inverted)%s", tr.name, where)
				limit, target = 1/0.9, "bandwidth >= 0.9x"
			}
			figs = append(figs, ratioFig(id, name, "ns/op", &b.mpi.lwk[t][m], limit, false, target,
				namedSeries{"native", &b.mpi.native[t][m]}))
		}
	}
	return figs
}
