package main

// The OS noise figure (issue 17), in the main instance after the
// process-model programs of each round: `mcperf noise -d -noise-dur
// --json`, the fixed-work-quantum loop (1 ms quanta, calibrated on the
// Linux CPU) on the LWK's CPU under mcexec and on a Linux CPU natively,
// side by side:
//
//  17. The LWK CPU's noise fraction, (sum - n*min)/sum of its quantum
//     times in %, against the Linux CPU's in the same run, the figure
//     McKernel's papers report. Lower is the goal; target: the LWK's CPU
//     is quieter than Linux's (ratio < 1). The figure's name gives the
//     medians of both CPUs' p99.9 and max quantum times.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomck/gomck/perf/noise"
)

var noiseDur = flag.Duration("noise-dur", 10*time.Second, "length of figure fwq_noise's mcperf noise run in each round")

// noiseSeries are the samples of figure 17: each CPU's noise in %, and
// its p99.9 and max quantum times in ns.
type noiseSeries struct {
	lwk, linux         series
	lwkP999, linuxP999 series
	lwkMax, linuxMax   series
}

func (s *noiseSeries) all() []*series {
	return []*series{&s.lwk, &s.linux, &s.lwkP999, &s.linuxP999, &s.lwkMax, &s.linuxMax}
}

// noiseNeeds is choose's table for figure 17.
func (b *bench) noiseNeeds() map[string][]*series {
	return map[string][]*series{"fwq_noise": b.noise.all()}
}

// measureNoise runs mcperf noise in the booted instance; after a failure
// it is not run again.
func (b *bench) measureNoise() {
	s := &b.noise
	if s.lwk.skip || s.lwk.err != nil {
		return
	}
	lwk, linux, err := b.mcperfNoise()
	if err != nil {
		progressf("  error: %v", err)
	} else {
		progressf("  %-24s LWK CPU %d %.4f%% (p99.9 %v), Linux CPU %d %.4f%% (p99.9 %v)", "mcperf noise",
			lwk.CPU, 100*lwk.Noise, lwk.P999, linux.CPU, 100*linux.Noise, linux.P999)
	}
	for _, a := range []struct {
		s *series
		v float64
	}{{&s.lwk, 100 * lwk.Noise}, {&s.linux, 100 * linux.Noise}, {&s.lwkP999, float64(lwk.P999)},
		{&s.linuxP999, float64(linux.P999)}, {&s.lwkMax, float64(lwk.Max)}, {&s.linuxMax, float64(linux.Max)}} {
		a.s.add(a.v, err)
	}
}

// mcperfNoise runs mcperf noise and returns its LWK CPU's row and its
// Linux CPU's.
func (b *bench) mcperfNoise() (lwk, linux noise.CPU, err error) {
	cmd := exec.CommandContext(b.ctx, filepath.Join(b.bin, "mcperf"), "noise", "-i", strconv.Itoa(index), "-d", noiseDur.String(), "--json")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return lwk, linux, fmt.Errorf("mcperf noise: %v%s", err, said(&stderr))
	}
	var rep noise.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return lwk, linux, fmt.Errorf("mcperf noise --json: %v", err)
	}
	found := map[string]bool{}
	for _, c := range rep.CPUs {
		switch {
		case c.Kernel == "lwk" && c.CPU == b.cpu:
			lwk = c
		case c.Kernel == "linux":
			linux = c
		default:
			continue
		}
		found[c.Kernel] = true
	}
	if !found["lwk"] || !found["linux"] {
		return lwk, linux, fmt.Errorf("mcperf noise measured %+v, not the LWK's CPU %d and a Linux CPU", rep.CPUs, b.cpu)
	}
	return lwk, linux, nil
}

// noiseFigure is figure 17.
func (b *bench) noiseFigure(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) Figure {
	s := &b.noise
	f := ratioFig("fwq_noise", fmt.Sprintf("FWQ noise (mcperf noise, 1 ms quanta, %v), LWK CPU against a Linux CPU side by side", *noiseDur),
		"%", &s.lwk, 1, true, "< 1x", namedSeries{"Linux CPU", &s.linux})
	if len(s.lwk.samples) > 0 && f.Result != resultSkipped {
		us := func(x *series) string { return fmt.Sprintf("%.0f us", x.median()/1e3) }
		f.Name += fmt.Sprintf(" (medians: p99.9 %s LWK, %s Linux; max %s LWK, %s Linux)",
			us(&s.lwkP999), us(&s.linuxP999), us(&s.lwkMax), us(&s.linuxMax))
	}
	return f
}
