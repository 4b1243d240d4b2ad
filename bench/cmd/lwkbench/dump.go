package main

// The kernel dump figures (issue 16): `ihkosctl 0 dump [-d 0] FILE` of an
// instance of -dump-mem (2G) on the LWK's CPU, booted for them alone after
// the others of the round, while bench/c/appmem holds -dump-mib (1 GiB)
// populated under mcexec with data like a simulation code's (a smooth
// field of full-precision doubles, integers counting up, a
// piecewise-constant field, mesh coordinates and zero pages; appmem.c
// says how much of each). They are taken in the first -dump-reps rounds,
// one dump of each level a round:
//
//  14. Level 24 (the daemon's memory: the kernel's own records, no app or
//     free pages): the wall time of ihkosctl, from its start to its end,
//     target < 1 s; and the file's size, without a target.
//  15. Level 0 (the whole partition too): the memory read per second of
//     ihkosctl's wall time, before compression (the partition's and the
//     daemon's bytes, as the file's ranges count them), target >= 1
//     GiB/s; and the file's size as a share of the populated bytes,
//     target < 25%.
//  16. mccrash on each of those dumps: the wall time of `mccrash -c ps
//     FILE`, from its start to the ps table (the dump opened through its
//     index, the kernel's records read, the table printed), target < 1 s.
//
// The figures' names also give the medians of what ihkosctl says of the
// dumps: the time figures' the memory read and the wall time, the size
// figures' the size on disk and the memory stored and omitted as zero
// (ihkosctl's "stored" is memory before compression). The dumps go to
// the cores' directory (on the disk, not a tmpfs), each in a run
// directory of its own, are checked (a dump of the instance at the level
// asked, ihkosctl's sizes matching the file's, the LWK's threads in it),
// removed, and the file system synced before the next run. A level 0 dump
// first, untimed, warms up what the timed ones touch: in this VM memory
// untouched since the boot costs seconds per GiB (see warm), and the
// first dump also builds the kernel's layout cache, which ihkosctl reads
// the kernel's records with.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/delegator/partition"
)

// dumpSeries are the samples of figures 14 and 15.
type dumpSeries struct {
	level24, level0 dumpLevel
}

// dumpLevel are one level's samples: the figures' values and what the
// figures' names report.
type dumpLevel struct {
	wall  series // ns, ihkosctl's wall time
	rate  series // GiB/s of memory read
	size  series // bytes on disk
	share series // size, in % of the populated bytes
	// What ihkosctl says of the dump, in bytes.
	memory, stored, zero series
	// crash is mccrash -c ps's wall time on the dump, ns.
	crash series
}

func (l *dumpLevel) all() []*series {
	return []*series{&l.wall, &l.rate, &l.size, &l.share, &l.memory, &l.stored, &l.zero}
}

// figureSeries are the ones -only chooses: a figure's time or size.
func (l *dumpLevel) figureSeries() []*series { return []*series{&l.wall, &l.rate, &l.size, &l.share} }

// all are the series the dump instance's boot fails.
func (s *dumpSeries) all() []*series {
	return append(append(s.level24.all(), s.level0.all()...), &s.level24.crash, &s.level0.crash)
}

// chosen reports whether -only chose any of the dump figures.
func (s *dumpSeries) chosen() bool {
	return !allSkipped(append(s.level24.figureSeries(), append(s.level0.figureSeries(), &s.level24.crash, &s.level0.crash)...))
}

// dumpNeeds is choose's table for figures 14 and 15.
func (b *bench) dumpNeeds() map[string][]*series {
	s := &b.dump
	return map[string][]*series{
		"dump_24_time":  {&s.level24.wall, &s.level24.rate},
		"dump_24_size":  {&s.level24.size, &s.level24.share},
		"dump_0_time":   {&s.level0.rate, &s.level0.wall},
		"dump_0_size":   {&s.level0.share, &s.level0.size},
		"mccrash_ps_24": {&s.level24.crash},
		"mccrash_ps_0":  {&s.level0.crash},
	}
}

// dumpRound reports whether round r takes the dump figures' samples.
func dumpRound(r int) bool { return r <= *dumpReps }

// dumpSample is one dump: ihkosctl's wall time and what it and the file
// say of it.
type dumpSample struct {
	wall                 float64 // ns
	memory, stored, zero uint64  // as ihkosctl says
	size                 int64   // of the file
}

// dumpLWK takes the dump samples in the booted dump instance, while
// appmem holds its memory; a level that failed is not tried again.
func (b *bench) dumpLWK() {
	s := &b.dump
	progressf("  kernel dumps with %s of app memory: warm-up at level 0, then levels 24 and 0", sizeName(*dumpMiB))
	app := b.lwk("appmem", strconv.Itoa(*dumpMiB))
	var stderr bytes.Buffer
	app.Stderr = &stderr
	in, err := app.StdinPipe()
	if err == nil {
		err = startHolding(app, in)
	}
	if err != nil {
		b.failDumps(fmt.Errorf("LWK appmem failed: %v%s", err, said(&stderr)))
		return
	}
	defer func() {
		io.WriteString(in, "end\n")
		in.Close()
		if err := waitTimeout(app); err != nil {
			progressf("  warning: LWK appmem: %v%s", err, said(&stderr))
		}
	}()
	if _, err := b.dumpRun("warm-up dump level 0", dumpfile.Level0, nil); err != nil {
		b.failDumps(fmt.Errorf("warm-up dump: %v", err))
		return
	}
	for _, l := range []struct {
		level int
		s     *dumpLevel
	}{{dumpfile.Level24, &s.level24}, {dumpfile.Level0, &s.level0}} {
		if allSkipped(append(l.s.figureSeries(), &l.s.crash)) || l.s.wall.err != nil {
			continue
		}
		l.s.add(b.dumpRun(fmt.Sprintf("dump level %d", l.level), l.level, &l.s.crash))
	}
}

// startHolding starts app (appmem) and waits until it holds its memory.
func startHolding(app *exec.Cmd, in io.Closer) error {
	out, err := app.StdoutPipe()
	if err != nil {
		return err
	}
	if err := app.Start(); err != nil {
		return err
	}
	line, err := nextLine(readLines(out), runTimeout)
	if err == nil {
		_, _, err = parseReady(line)
	}
	if err != nil {
		in.Close()
		app.Process.Kill()
		app.Wait()
	}
	return err
}

// said renders a program's stderr for an error message, "" if empty.
func said(stderr *bytes.Buffer) string {
	if e := strings.TrimSpace(stderr.String()); e != "" {
		return ": " + e
	}
	return ""
}

// values are d's values in the order of dumpLevel.all.
func (d dumpSample) values() []float64 {
	gibPerS := 0.0
	if d.wall > 0 {
		gibPerS = float64(d.memory) / (1 << 30) / (d.wall / 1e9)
	}
	populated := float64(int64(*dumpMiB) << 20)
	return []float64{d.wall, gibPerS, float64(d.size), 100 * float64(d.size) / populated,
		float64(d.memory), float64(d.stored), float64(d.zero)}
}

// add adds d's values to l's series, or err, said once, to each.
func (l *dumpLevel) add(d dumpSample, err error) {
	if err != nil {
		failAll(err, l.all())
		return
	}
	v := d.values()
	for i, s := range l.all() {
		s.add(v[i], nil)
	}
}

// failDumps gives the dump series err.
func (b *bench) failDumps(err error) { failAll(err, b.dump.all()) }

// failAll gives err, said once, to those of ss that were chosen and have
// no error yet.
func failAll(err error, ss []*series) {
	progressf("  error: %v", err)
	for _, s := range ss {
		if !s.skip && s.err == nil {
			s.err = err
		}
	}
}

// dumpRun times `ihkosctl 0 dump [-d LEVEL] FILE` in a run directory and
// checks the dump it writes; then mccrash on it, into crash unless nil.
func (b *bench) dumpRun(label string, level int, crash *series) (dumpSample, error) {
	dir, done, err := b.scratch()
	if err != nil {
		return dumpSample{}, fmt.Errorf("%s: %v", label, err)
	}
	defer done()
	file := filepath.Join(dir, "mcdump")
	args := []string{strconv.Itoa(index), "dump"}
	if level != dumpfile.Level24 {
		args = append(args, "-d", strconv.Itoa(level))
	}
	cmd := exec.CommandContext(b.ctx, filepath.Join(b.bin, "ihkosctl"), append(args, file)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	d := dumpSample{}
	if d.wall, err = wall("ihkosctl "+strings.Join(args, " "), -1, cmd); err != nil {
		return d, err
	}
	if err := d.parse(out.String(), level, file); err != nil {
		return d, fmt.Errorf("%s: %v", label, err)
	}
	if err := d.check(file, level); err != nil {
		return d, fmt.Errorf("%s: %v", label, err)
	}
	progressf("  %-24s %10.2f s, %s of memory, %s stored, %s zero, %s on disk", label, d.wall/1e9,
		mib(float64(d.memory)), mib(float64(d.stored)), mib(float64(d.zero)), mib(float64(d.size)))
	if crash != nil && !crash.skip && crash.err == nil {
		crash.add(b.crashPS(label, file))
	}
	return d, nil
}

// crashPS times `mccrash -c ps FILE`, which must list appmem.
func (b *bench) crashPS(label, file string) (float64, error) {
	cmd := exec.CommandContext(b.ctx, filepath.Join(b.bin, "mccrash"), "-c", "ps", file)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	v, err := wall("mccrash -c ps", -1, cmd)
	if err != nil {
		return 0, fmt.Errorf("mccrash -c ps on the %s: %v%s", label, err, said(&stderr))
	}
	if !strings.Contains(out.String(), "appmem") {
		return 0, fmt.Errorf("mccrash -c ps on the %s lists no appmem:\n%s", label, out.String())
	}
	progressf("  %-24s %10.3f s", "mccrash -c ps", v/1e9)
	return v, nil
}

// dumpedRE is ihkosctl dump's report of its dump.
var dumpedRE = regexp.MustCompile(`(?m)^dumped instance ([0-9]+) \(level ([0-9]+)\) to (.+): ([0-9.]+) MiB of memory, ([0-9.]+) MiB stored, ([0-9.]+) MiB zero, ([0-9]+) threads, ([0-9.]+) MiB on disk, in \S+$`)

// parse reads ihkosctl dump's report of a dump of instance 0 at level
// into file. The dump must hold the LWK's threads: without them the
// kernel's records were not read, and the dump is not what users get.
func (d *dumpSample) parse(out string, level int, file string) error {
	m := dumpedRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("ihkosctl said %q, not \"dumped instance ...\"", strings.TrimSpace(out))
	}
	if m[1] != strconv.Itoa(index) || m[2] != strconv.Itoa(level) || m[3] != file {
		return fmt.Errorf("ihkosctl dumped instance %s at level %s to %s, not %d at %d to %s", m[1], m[2], m[3], index, level, file)
	}
	var v [4]float64
	for i, s := range []string{m[4], m[5], m[6], m[8]} {
		v[i], _ = strconv.ParseFloat(s, 64) // the expression admits only digits and dots
	}
	if m[7] == "0" {
		return errors.New("ihkosctl dumped no LWK threads: the kernel's records were not read")
	}
	d.memory, d.stored, d.zero = uint64(v[0]*(1<<20)), uint64(v[1]*(1<<20)), uint64(v[2]*(1<<20))
	d.size = int64(v[3] * (1 << 20))
	return nil
}

// check opens the dump as its readers do and checks it against what
// ihkosctl said, rounded to 0.1 MiB: the instance and level asked for,
// the partition in it at level 0 only, and the memory and size ihkosctl
// reported. It then takes those from the file.
func (d *dumpSample) check(file string, level int) error {
	dump, err := dumpfile.Open(file)
	if err != nil {
		return err
	}
	defer dump.Close()
	if h := dump.Header; h.Instance != index || h.Level != level {
		return fmt.Errorf("the dump says instance %d, level %d; want %d, %d", h.Instance, h.Level, index, level)
	}
	var memory, part uint64
	for _, r := range dump.Ranges {
		memory += r.Size
		if r.PA != dumpfile.NoPA {
			part += r.Size
		}
	}
	if want := partitionBytes(level); part != want {
		return fmt.Errorf("%s of the partition in the dump, want %s", mib(float64(part)), mib(float64(want)))
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		what       string
		said, file float64
	}{{"memory", float64(d.memory), float64(memory)}, {"size on disk", float64(d.size), float64(st.Size())}} {
		if mib(c.said) != mib(c.file) {
			return fmt.Errorf("ihkosctl said %s of %s, the file holds %s", mib(c.said), c.what, mib(c.file))
		}
	}
	d.memory, d.size = memory, st.Size()
	return nil
}

// partitionBytes is the partition's size in a dump at level: all of
// -dump-mem at level 0, none at level 24.
func partitionBytes(level int) uint64 {
	if level != dumpfile.Level0 {
		return 0
	}
	chunks, _ := partition.ParseMemSpec(*dumpMem) // mcreboot accepted it
	var n uint64
	for _, c := range chunks {
		n += uint64(c.Size)
	}
	return n
}

// mib renders n bytes as ihkosctl does.
func mib(n float64) string { return fmt.Sprintf("%.1f MiB", n/(1<<20)) }

// dumpFigures are figures 14 and 15. The time figures' names give the
// median memory and wall time, the size figures' what the dump holds.
func (b *bench) dumpFigures() []Figure {
	s := &b.dump
	of := fmt.Sprintf("%s instance, %s of app memory", *dumpMem, sizeName(*dumpMiB))
	return []Figure{
		withTime(limitFig("dump_24_time", "kernel dump at level 24 (ihkosctl dump), "+of, "ns",
			&s.level24.wall, 1e9, "< 1 s"), &s.level24),
		withSizes(untargeted(limitFig("dump_24_size", "kernel dump at level 24, size on disk", "bytes",
			&s.level24.size, 0, "no target")), &s.level24),
		withTime(floorFig("dump_0_time", "kernel dump at level 0 (ihkosctl dump -d 0), "+of+", memory read per second before compression", "GiB/s",
			&s.level0.rate, 1, ">= 1 GiB/s"), &s.level0),
		withSizes(limitFig("dump_0_size", "kernel dump at level 0, size on disk, % of the populated "+sizeName(*dumpMiB), "%",
			&s.level0.share, 25, "< 25%"), &s.level0),
		limitFig("mccrash_ps_24", "mccrash -c ps on the level 24 dump, start to table", "ns", &s.level24.crash, 1e9, "< 1 s"),
		limitFig("mccrash_ps_0", "mccrash -c ps on the level 0 dump, start to table", "ns", &s.level0.crash, 1e9, "< 1 s"),
	}
}

// withTime adds the medians of l's memory and wall time to f's name.
func withTime(f Figure, l *dumpLevel) Figure {
	if len(l.wall.samples) > 0 && f.Result != resultSkipped {
		f.Name += fmt.Sprintf(" (medians: %s of memory in %.2f s)", mib(l.memory.median()), l.wall.median()/1e9)
	}
	return f
}

// withSizes adds the medians of what ihkosctl said of l's dumps to f's
// name.
func withSizes(f Figure, l *dumpLevel) Figure {
	if len(l.size.samples) > 0 && f.Result != resultSkipped {
		f.Name += fmt.Sprintf(" (medians: %s on disk; of %s of memory, %s stored, %s zero)",
			mib(l.size.median()), mib(l.memory.median()), mib(l.stored.median()), mib(l.zero.median()))
	}
	return f
}
