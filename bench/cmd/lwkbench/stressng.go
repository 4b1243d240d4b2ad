package main

// The stress-ng figures (issue 19): each stressor of benchStressors runs
// for -stress-dur with one worker under mcexec in the main instance, and
// natively on the LWK's CPU in the last host round; a figure's values are
// ns per bogo op (stress-ng's bogo ops/s, real time, inverted), so that
// LWK/native is the slowdown:
//
//   - stressng_worst: the stressor slowest against native; target 100x
//     ("no stressor below 1/100 of native bogo-ops per CPU").
//   - stressng_fork: the fork stressor; target 5x.
//   - stressng_ops_STRESSOR: each stressor, no target (README's table).

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

var stressDur = flag.Duration("stress-dur", 2*time.Second, "length of each stress-ng stressor's run, LWK and native (figures stressng_*)")

// benchStressors are the stressors measured: TestStressNG's.
var benchStressors = testprog.Stressors[:]

// stressSeries are ns per bogo op of each stressor, by benchStressors'
// index.
type stressSeries struct {
	lwk, native [len(testprog.Stressors)]series
}

func (s *stressSeries) all(native bool) []*series {
	var out []*series
	for i := range benchStressors {
		if native {
			out = append(out, &s.native[i])
		} else {
			out = append(out, &s.lwk[i])
		}
	}
	return out
}

// stressNeeds is choose's table for the stress-ng figures.
func (b *bench) stressNeeds() map[string][]*series {
	all := append(b.stress.all(false), b.stress.all(true)...)
	fork := indexOf("fork")
	needs := map[string][]*series{"stressng_worst": all, "stressng_fork": {&b.stress.lwk[fork], &b.stress.native[fork]}}
	for i, st := range benchStressors {
		needs["stressng_ops_"+st] = []*series{&b.stress.lwk[i], &b.stress.native[i]}
	}
	return needs
}

func indexOf(stressor string) int {
	for i, s := range benchStressors {
		if s == stressor {
			return i
		}
	}
	panic("no stressor " + stressor)
}

// metricRE finds a stressor's line of --metrics-brief: bogo ops, real,
// user and system seconds, bogo ops/s of real time.
var metricRE = regexp.MustCompile(`metrc: \[\d+\] +(\S+) +(\d+) +[\d.]+ +[\d.]+ +[\d.]+ +([\d.]+)`)

// stressRun runs one stressor and returns its ns per bogo op.
func stressRun(label string, cpu int, cmd *exec.Cmd) (float64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCmd(cpu, cmd); err != nil {
		return 0, fmt.Errorf("%s failed: %v: %s", label, err, out.String())
	}
	m := metricRE.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("%s: no metrics in %q", label, out.String())
	}
	rate, err := strconv.ParseFloat(string(m[3]), 64)
	if err != nil || rate <= 0 {
		return 0, fmt.Errorf("%s: no bogo ops in %q", label, m[0])
	}
	return 1e9 / rate, nil
}

// stressExtra are stressor options beside the defaults: mmap's default
// 256 MiB a mapping takes one bogo op more than 2 s natively on a nested
// VM (and the LWK, which populates at mmap, did none in 7 s), so no
// ratio came out of a run.
var stressExtra = map[string][]string{"mmap": {"--mmap-bytes", "16M"}}

// stressArgs are stress-ng's arguments for one stressor.
func stressArgs(stressor string) []string {
	a := []string{"stress-ng", "--" + stressor, "1", "-t", stressDur.String(), "--metrics-brief"}
	return append(a, stressExtra[stressor]...)
}

// stressHost takes the native samples, in the last host round.
func (b *bench) stressHost(take func(measure func() ([]float64, error), ss ...*series) bool) bool {
	if _, err := exec.LookPath("stress-ng"); err != nil {
		for _, s := range b.stress.all(true) {
			s.add(0, errors.New("stress-ng is not installed (scripts/deps.sh)"))
		}
		return true
	}
	progressf("  stress-ng: %d stressors for %v each", len(benchStressors), *stressDur)
	for i, st := range benchStressors {
		a := stressArgs(st)
		if !take(func() ([]float64, error) {
			return one(stressRun("native stress-ng --"+st, b.cpu, exec.CommandContext(b.ctx, a[0], a[1:]...)))
		}, &b.stress.native[i]) {
			return false
		}
	}
	return true
}

// measureStressNG takes the LWK's samples in the main instance.
func (b *bench) measureStressNG() {
	for i, st := range benchStressors {
		s := &b.stress.lwk[i]
		if s.skip || s.err != nil {
			continue
		}
		if _, err := exec.LookPath("stress-ng"); err != nil {
			s.add(0, errors.New("stress-ng is not installed (scripts/deps.sh)"))
			continue
		}
		s.add(stressRun("LWK stress-ng --"+st, -1, b.inst.mcexec(b.ctx, stressArgs(st)...)))
	}
}

// stressFigures are the stress-ng figures.
func (b *bench) stressFigures(ratioFig func(id, name, unit string, v *series, limit float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	worst, worstRatio := indexOf("cpu"), 0.0
	for i := range benchStressors {
		l, n := &b.stress.lwk[i], &b.stress.native[i]
		if l.failure() != nil || n.failure() != nil {
			worst, worstRatio = i, -1 // a failure is the worst
			break
		}
		if r := value(l).Median / value(n).Median; r > worstRatio {
			worst, worstRatio = i, r
		}
	}
	fork := indexOf("fork")
	figs := []Figure{
		ratioFig("stressng_worst", fmt.Sprintf("stress-ng --%s, the slowest of %d stressors against native, ns per bogo op", benchStressors[worst], len(benchStressors)),
			"ns/op", &b.stress.lwk[worst], 100, false, "<= 100x", namedSeries{"native", &b.stress.native[worst]}),
		ratioFig("stressng_fork", "stress-ng --fork, ns per bogo op", "ns/op", &b.stress.lwk[fork], 5, false, "<= 5x",
			namedSeries{"native", &b.stress.native[fork]}),
	}
	for i, st := range benchStressors {
		figs = append(figs, untargeted(ratioFig("stressng_ops_"+st, "stress-ng --"+st+", ns per bogo op", "ns/op",
			&b.stress.lwk[i], 0, false, "no target", namedSeries{"native", &b.stress.native[i]})))
	}
	return figs
}
