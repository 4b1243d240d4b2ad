package main

// The core dump figures (issue 15), for a process of bench/c/bigcore
// with -core-mib (1 GiB) populated with pseudo-random words, never zero,
// so that no writer may skip a page and no layer below may compress one.
// They are taken in the first -core-reps rounds only (3; each writes
// some 6 GiB): the native runs at the end of the host round, the LWK runs
// in an instance of their own on the LWK's CPU with -core-mem (4G: the
// first instance's 1536M does not hold the populated memory, and with
// twice the process's memory free mcgcore copies it into the partition,
// as it does whenever the partition has that room), booted after the
// others of the round so that they keep their own memory size.
// Values are per GiB populated.
//
//  12. Core write at death: bigcore prints CLOCK_MONOTONIC and dies of
//     SIGSEGV under `sh -c 'ulimit -c unlimited; exec mcexec bigcore MiB
//     crash'`, and the figure runs from that timestamp to the bench's wait
//     for mcexec returning, which mcexec delays until the core is written:
//     signal delivery, the core and the process's end, what a user waits
//     for. Its references, in the same round: dd of as many bytes (bs=1M,
//     from a file of random bytes that stays in the page cache, made once
//     per bench), the disk's own limit and the one that decides; Linux's
//     dumper, the same program run natively, timed the same way; and gdb's
//     gcore of the same program running natively (the wall time of gdb
//     -batch -p PID -ex 'gcore FILE'). None of them fsyncs: Linux's dumper
//     does not, nor does the LWK's, so dd does not either. The references
//     beyond the first are shown as multiples of dd too. Target: <= 1.2x
//     dd.
//  13. mcgcore: its wall time on the same program running under mcexec
//     (bigcore MiB wait), against dd and gdb gcore, without a target; and
//     the pause it imposes, the largest gap between two iterations of
//     bigcore's thread spinning on clock_gettime (the vDSO: no system
//     call), asked for on its stdin once mcgcore has returned. gdb gcore's
//     gap, natively, is shown for scale: gdb stops the process for the
//     whole dump. Target: < 0.5 s per GiB.
//
// Native programs run on the LWK's CPU, as the other native runs, and so
// do dd and Linux's dumper (in the dying process); gdb is left to Linux,
// which puts it beside the spinner, on the CPU where mcgcore runs beside
// an instance. The cores and dd's output go to a directory on the disk
// (-core-dir; not a tmpfs), each run's in a directory of its own, the
// working directory of the dying program: the cores follow the host's
// core_pattern, which must name a file relative to it. Each is checked
// (an ELF core of bigcore whose segments hold the populated memory),
// removed, and the file system synced before the next run, so that no
// run pays for another's writeback.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// coreSeries are the samples of figures 12 and 13, in ns per GiB.
type coreSeries struct {
	// Native, in the host rounds.
	dd, linux, gdb, gdbGap series
	// Under mcexec, in the core instance.
	lwk, mcgcore, mcgcoreGap series
}

// lwkSeries are the series the core instance's boot fails.
func (s *coreSeries) lwkSeries() []*series { return []*series{&s.lwk, &s.mcgcore, &s.mcgcoreGap} }

// hostSeries are the native ones.
func (s *coreSeries) hostSeries() []*series { return []*series{&s.dd, &s.linux, &s.gdb, &s.gdbGap} }

// coreNeeds is choose's table for figures 12 and 13.
func (b *bench) coreNeeds() map[string][]*series {
	s := &b.core
	return map[string][]*series{
		"core_write":    {&s.lwk, &s.dd, &s.linux, &s.gdb},
		"mcgcore_wall":  {&s.mcgcore, &s.dd, &s.gdb},
		"mcgcore_pause": {&s.mcgcoreGap, &s.gdbGap},
	}
}

// coreRound reports whether round r takes the core figures' samples.
func coreRound(r int) bool { return r <= *coreReps }

// gib is the populated memory in GiB, which the figures are per.
func gib() float64 { return float64(*coreMiB) / 1024 }

// prepareCores makes the directory of the cores and the kernel dumps, or
// fails their series. It goes where the flag says or, by default, into
// the temporary directory unless that is a tmpfs, which holds its files
// in memory; then beside the repository.
func (b *bench) prepareCores(parent, root string) {
	cores := !allSkipped(append(b.core.lwkSeries(), b.core.hostSeries()...))
	if !cores && !b.dump.chosen() {
		return
	}
	fail := func(err error) {
		if cores {
			b.failCores(err)
		}
		if b.dump.chosen() {
			b.failDumps(fmt.Errorf("dump figures: %w", err))
		}
	}
	if parent == "" {
		parent = os.TempDir()
		if inMemory(parent) {
			parent = root
		}
	} else if inMemory(parent) {
		fail(fmt.Errorf("-core-dir %s is in memory (tmpfs): the cores would not reach the disk", parent))
		return
	}
	dir, err := os.MkdirTemp(parent, "lwkbench-cores-")
	if err != nil {
		fail(err)
		return
	}
	b.cores, b.ddSrc = dir, filepath.Join(dir, "dd-source")
}

// writeDDSource writes dd's source file, or fails the core series.
func (b *bench) writeDDSource() {
	if b.core.dd.skip || b.cores == "" {
		return
	}
	progressf("cores in %s: writing dd's source, %s of random bytes", b.cores, sizeName(*coreMiB))
	if err := writeRandom(b.ddSrc, int64(*coreMiB)<<20); err != nil {
		b.failCores(err)
		return
	}
	unix.Sync()
}

// failCores gives the core series err.
func (b *bench) failCores(err error) {
	failAll(fmt.Errorf("core figures: %w", err), append(b.core.lwkSeries(), b.core.hostSeries()...))
}

// removeCores removes the cores' directory, also on a signal.
func (b *bench) removeCores() {
	if b.cores != "" {
		os.RemoveAll(b.cores)
	}
}

// inMemory reports whether dir is on a tmpfs or ramfs.
func inMemory(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && (st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC)
}

// writeRandom writes n random bytes to path: as incompressible as
// bigcore's memory.
func writeRandom(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var seed [32]byte
	_, err = io.CopyN(f, rand.NewChaCha8(seed), n)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// scratch makes a run's directory; done removes it and syncs, so that
// the next run starts without another's dirty pages.
func (b *bench) scratch() (dir string, done func(), err error) {
	if b.cores == "" {
		return "", nil, errors.New("no directory for the cores")
	}
	dir, err = os.MkdirTemp(b.cores, "run-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		unix.Sync()
	}, nil
}

// coreHost takes a host round's native core samples with take, which
// keeps them only if the LWK's CPU stayed ours; it reports take's verdict.
func (b *bench) coreHost(take func(measure func() ([]float64, error), ss ...*series) bool) bool {
	s := &b.core
	if allSkipped(s.hostSeries()) {
		return true
	}
	mib := strconv.Itoa(*coreMiB)
	progressf("  cores of %s: dd, Linux's dumper, gdb gcore", sizeName(*coreMiB))
	b.warm(b.cpu)
	return take(func() ([]float64, error) { return b.ddRun("dd", b.cpu) }, &s.dd) &&
		take(func() ([]float64, error) {
			return one(b.deathCore("native core_write", b.cpu, withCoreLimit(b.native("bigcore", mib, "crash"))))
		}, &s.linux) &&
		take(func() ([]float64, error) {
			return b.liveCore("native gdb gcore", b.cpu, b.native("bigcore", mib, "wait"), b.gdbGcore)
		}, &s.gdb, &s.gdbGap)
}

// coreLWK takes the LWK's samples in the booted core instance; a figure
// that failed is not tried again (each run is seconds long).
func (b *bench) coreLWK() {
	s := &b.core
	mib := strconv.Itoa(*coreMiB)
	progressf("  cores of %s: death core under mcexec, mcgcore", sizeName(*coreMiB))
	b.warm(-1) // the LWK's CPU is the instance's now
	if !s.lwk.skip && s.lwk.err == nil {
		s.lwk.add(b.deathCore("LWK core_write", -1, withCoreLimit(b.lwk("bigcore", mib, "crash"))))
	}
	if (!s.mcgcore.skip || !s.mcgcoreGap.skip) && s.mcgcore.err == nil && s.mcgcoreGap.err == nil {
		v, err := b.liveCore("LWK mcgcore", -1, b.lwk("bigcore", mib, "wait"), b.mcgcore)
		for i, x := range []*series{&s.mcgcore, &s.mcgcoreGap} {
			if !x.skip {
				x.add(at(v, i), err)
			}
		}
	}
}

func one(v float64, err error) ([]float64, error) { return []float64{v}, err }

// at is v[i], or 0 where a failure left no values.
func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// withCoreLimit makes cmd run under `sh -c 'ulimit -c unlimited; exec
// ...'`, as a user asks for cores: a core limit set in the bench itself
// would also let its own crash dump one.
func withCoreLimit(cmd *exec.Cmd) *exec.Cmd {
	sh, err := exec.LookPath("sh")
	if err != nil {
		cmd.Err = err
		return cmd
	}
	cmd.Args = append([]string{"sh", "-c", `ulimit -c unlimited && exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = sh
	return cmd
}

// warm writes as many bytes as a core once, untimed, before a phase's
// first figure: in this nested VM the first writer after an instance's
// boot or shutdown pays for the host faulting the guest's memory back in
// (dd: 3.9 s per GiB right after mcreboot, 0.46 s the next time), which
// would be charged to whichever figure came first. dd runs on cpu (-1:
// where Linux puts it).
func (b *bench) warm(cpu int) {
	if _, err := b.ddRun("warm-up dd", cpu); err != nil {
		progressf("  warm-up dd: %v", err)
	}
}

// ddRun times dd writing as many bytes as bigcore populates, on cpu.
func (b *bench) ddRun(label string, cpu int) ([]float64, error) {
	dir, done, err := b.scratch()
	if err != nil {
		return nil, err
	}
	defer done()
	out := filepath.Join(dir, "dd.out")
	cmd := exec.CommandContext(b.ctx, "dd", "if="+b.ddSrc, "of="+out, "bs=1M", "count="+strconv.Itoa(*coreMiB), "iflag=fullblock")
	v, err := wall("dd", cpu, cmd)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(out); err != nil || st.Size() != int64(*coreMiB)<<20 {
		return nil, fmt.Errorf("dd wrote %v (%v), not %s", st.Size(), err, sizeName(*coreMiB))
	}
	progressf("  %-24s %10.2f s", label, v/1e9)
	return []float64{v / gib()}, nil
}

// deathCore runs cmd, bigcore MiB crash (under mcexec or not), in a run
// directory, bound to cpu unless it is -1, and returns the time from
// bigcore's timestamp, printed just before it faults, to the wait for cmd
// returning, per GiB, once it has checked that cmd died of SIGSEGV and
// left a core of bigcore behind.
func (b *bench) deathCore(label string, cpu int, cmd *exec.Cmd) (float64, error) {
	dir, done, err := b.scratch()
	if err != nil {
		return 0, fmt.Errorf("%s failed: %v", label, err)
	}
	defer done()
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	failed := func(format string, args ...any) (float64, error) {
		msg := fmt.Sprintf(format, args...)
		if e := strings.TrimSpace(stderr.String()); e != "" {
			msg += ": " + e
		}
		return 0, fmt.Errorf("%s failed: %s", label, msg)
	}
	if err := start(cpu, cmd); err != nil {
		return failed("%v", err)
	}
	lines := readLines(out)
	line, err := nextLine(lines, runTimeout)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return failed("%v", err)
	}
	_, t0, err := parseReady(line)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return failed("%v", err)
	}
	err = waitTimeout(cmd)
	t1 := monotonic()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return failed("bigcore did not die: %v", err)
	}
	ws, _ := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		return failed("bigcore did not die of SIGSEGV: %v", err)
	}
	core, err := onlyFile(dir)
	if err != nil {
		return failed("no core after bigcore died of SIGSEGV: %v", err)
	}
	if err := checkCore(core, b.progs["bigcore"], int64(*coreMiB)<<20); err != nil {
		return failed("%v", err)
	}
	d := float64(t1 - t0)
	progressf("  %-24s %10.2f s", label, d/1e9)
	return d / gib(), nil
}

// dumper prepares the command that writes a core of the running process
// pid into dir and returns it with the file it is to write.
type dumper func(dir, pid string) (*exec.Cmd, string)

func (b *bench) gdbGcore(dir, pid string) (*exec.Cmd, string) {
	file := filepath.Join(dir, "core")
	return exec.CommandContext(b.ctx, "gdb", "-batch", "-nx", "-p", pid, "-ex", "gcore "+file), file
}

func (b *bench) mcgcore(dir, pid string) (*exec.Cmd, string) {
	file := filepath.Join(dir, "core")
	return exec.CommandContext(b.ctx, filepath.Join(b.bin, "mcgcore"), "-i", strconv.Itoa(index), "-o", file, pid), file + "." + pid
}

// liveCore starts prog, bigcore MiB wait (under mcexec or not), bound to
// cpu unless it is -1, has dump write a core of it while it runs, and
// returns dump's wall time and the largest gap that bigcore's spinning
// thread saw, each per GiB. dump must say "Saved corefile FILE", as gdb
// does, and FILE must be a core of bigcore.
func (b *bench) liveCore(label string, cpu int, prog *exec.Cmd, dump dumper) ([]float64, error) {
	dir, done, err := b.scratch()
	if err != nil {
		return nil, fmt.Errorf("%s failed: %v", label, err)
	}
	defer done()
	var stderr bytes.Buffer
	prog.Stderr = &stderr
	in, err := prog.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := prog.StdoutPipe()
	if err != nil {
		return nil, err
	}
	failed := func(format string, args ...any) ([]float64, error) {
		msg := fmt.Sprintf(format, args...)
		if e := strings.TrimSpace(stderr.String()); e != "" {
			msg += "; bigcore: " + e
		}
		return nil, fmt.Errorf("%s failed: %s", label, msg)
	}
	if err := start(cpu, prog); err != nil {
		return failed("%v", err)
	}
	running := true
	defer func() {
		if running {
			prog.Process.Kill()
			prog.Wait()
		}
	}()
	lines := readLines(out)
	line, err := nextLine(lines, runTimeout)
	if err != nil {
		return failed("%v", err)
	}
	pid, _, err := parseReady(line)
	if err != nil {
		return failed("%v", err)
	}
	cmd, file := dump(dir, strconv.Itoa(pid))
	var said bytes.Buffer
	cmd.Stdout = &said
	d, err := wall(filepath.Base(cmd.Path), -1, cmd)
	if err != nil {
		return failed("%v", err)
	}
	if want := "Saved corefile " + file; !strings.Contains(said.String(), want) {
		return failed("%s said %q, not %q", filepath.Base(cmd.Path), strings.TrimSpace(said.String()), want)
	}
	if err := checkCore(file, b.progs["bigcore"], int64(*coreMiB)<<20); err != nil {
		return failed("%v", err)
	}
	if _, err := io.WriteString(in, "gap\n"); err != nil {
		return failed("asking for the gap: %v", err)
	}
	line, err = nextLine(lines, runTimeout)
	if err != nil {
		return failed("asking for the gap: %v", err)
	}
	gap, err := parseGap(line)
	if err != nil {
		return failed("%v", err)
	}
	in.Close()
	running = false
	if err := waitTimeout(prog); err != nil {
		return failed("bigcore after the core: %v", err)
	}
	progressf("  %-24s %10.2f s, pause %.3f s", label, d/1e9, gap/1e9)
	return []float64{d / gib(), gap / gib()}, nil
}

// start starts cmd, on cpu unless it is -1.
func start(cpu int, cmd *exec.Cmd) error {
	if cpu >= 0 {
		return onCPU(cpu, cmd.Start)
	}
	return cmd.Start()
}

// waitTimeout waits for cmd, started, killing it after runTimeout.
func waitTimeout(cmd *exec.Cmd) error {
	timer := time.AfterFunc(runTimeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	if !timer.Stop() {
		return fmt.Errorf("killed after %v", runTimeout)
	}
	return err
}

// readLines sends out's lines on the channel it returns, which is closed
// at out's end; bigcore and appmem print two at most.
func readLines(out io.Reader) <-chan string {
	ch := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// nextLine waits up to timeout for the next line.
func nextLine(lines <-chan string, timeout time.Duration) (string, error) {
	select {
	case line, ok := <-lines:
		if !ok {
			return "", errors.New("the program's output ended")
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("the program printed nothing in %v", timeout)
	}
}

// parseReady reads bigcore's or appmem's "ready PID T" line: its pid and the
// CLOCK_MONOTONIC time in ns when it printed it.
func parseReady(line string) (pid int, t int64, err error) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ready" {
		return 0, 0, fmt.Errorf("the program said %q instead of ready PID T", line)
	}
	if pid, err = strconv.Atoi(f[1]); err == nil {
		t, err = strconv.ParseInt(f[2], 10, 64)
	}
	if err != nil || pid <= 0 || t <= 0 {
		return 0, 0, fmt.Errorf("the program said %q instead of ready PID T", line)
	}
	return pid, t, nil
}

// parseGap reads bigcore's "gap NS" line.
func parseGap(line string) (float64, error) {
	f := strings.Fields(line)
	if len(f) == 2 && f[0] == "gap" {
		if v, err := strconv.ParseFloat(f[1], 64); err == nil && v >= 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("bigcore said %q instead of gap NS", line)
}

// onlyFile returns the one file in dir: the core that the program dying
// there left, whatever core_pattern named it.
func onlyFile(dir string) (string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(es) == 0 {
		return "", fmt.Errorf("no file in the working directory (core_pattern %s)", corePattern())
	}
	if len(es) != 1 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return "", fmt.Errorf("%d files in the working directory %v (core_pattern %s)", len(es), names, corePattern())
	}
	return filepath.Join(dir, es[0].Name()), nil
}

func corePattern() string {
	b, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	return strconv.Quote(strings.TrimSpace(string(b)))
}

// ntPrpsinfo is the note of the process's name and arguments; its
// pr_fname (16 bytes) is at prpsinfoFname in x86-64's struct.
const (
	ntPrpsinfo    = 3
	prpsinfoFname = 40
)

// checkCore checks that path is an ELF core of the program prog whose
// loadable segments hold at least min bytes: a core of the program, not
// of mcexec, and complete. The name in the core is the file's, cut to
// fit pr_fname: to 15 bytes by Linux (its comm), 16 by gdb.
func checkCore(path, prog string, min int64) error {
	comm := filepath.Base(prog)
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("core %s: %v", filepath.Base(path), err)
	}
	defer f.Close()
	if f.Type != elf.ET_CORE {
		return fmt.Errorf("core %s: ELF type %v, not ET_CORE", filepath.Base(path), f.Type)
	}
	var loaded int64
	name := ""
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loaded += int64(p.Filesz)
		case elf.PT_NOTE:
			notes, err := io.ReadAll(p.Open())
			if err != nil {
				return fmt.Errorf("core %s: notes: %v", filepath.Base(path), err)
			}
			if n, ok := prpsinfoName(notes, f.ByteOrder); ok {
				name = n
			}
		}
	}
	if name != comm && (len(name) < 15 || !strings.HasPrefix(comm, name)) {
		return fmt.Errorf("core %s: of %q (NT_PRPSINFO), not %q", filepath.Base(path), name, comm)
	}
	if loaded < min {
		return fmt.Errorf("core %s: %d bytes in PT_LOAD segments, fewer than the %d populated", filepath.Base(path), loaded, min)
	}
	return nil
}

// prpsinfoName finds NT_PRPSINFO among notes and returns its pr_fname.
func prpsinfoName(notes []byte, bo binary.ByteOrder) (string, bool) {
	align := func(n uint32) int { return int((n + 3) &^ 3) }
	for len(notes) >= 12 {
		namesz, descsz, typ := bo.Uint32(notes), bo.Uint32(notes[4:]), bo.Uint32(notes[8:])
		rest := notes[12:]
		if align(namesz) > len(rest) || align(namesz)+align(descsz) > len(rest) {
			return "", false
		}
		name := string(bytes.TrimRight(rest[:namesz], "\x00"))
		desc := rest[align(namesz) : align(namesz)+int(descsz)]
		if typ == ntPrpsinfo && name == "CORE" && len(desc) >= prpsinfoFname+16 {
			fname := desc[prpsinfoFname : prpsinfoFname+16]
			if i := bytes.IndexByte(fname, 0); i >= 0 {
				fname = fname[:i]
			}
			return string(fname), true
		}
		notes = rest[align(namesz)+align(descsz):]
	}
	return "", false
}

// coreFigures are figures 12 and 13; ratioFig is report's.
func (b *bench) coreFigures(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	s := &b.core
	size := sizeName(*coreMiB)
	dd, gdb := namedSeries{"dd", &s.dd}, namedSeries{"gdb gcore", &s.gdb}
	return []Figure{
		againstFirst(ratioFig("core_write", "core dump at death (SIGSEGV), "+size+" populated, per GiB", "ns/GiB",
			&s.lwk, 1.2, false, "<= 1.2x dd", dd, namedSeries{"Linux's dumper", &s.linux}, gdb)),
		againstFirst(untargeted(ratioFig("mcgcore_wall", "mcgcore of a running process, "+size+" populated, per GiB", "ns/GiB",
			&s.mcgcore, 0, false, "no target", dd, gdb))),
		limitFig("mcgcore_pause", "pause mcgcore imposes (longest gap of a spinning thread), per GiB", "ns/GiB",
			&s.mcgcoreGap, 0.5e9, "< 0.5 s per GiB", namedSeries{"gdb gcore's", &s.gdbGap}),
	}
}

// againstFirst shows the references beyond the first as multiples of it.
func againstFirst(f Figure) Figure {
	for i := 1; i < len(f.Refs); i++ {
		if f.Refs[0].Median > 0 && len(f.Refs[i].Samples) > 0 {
			f.Refs[i].Ratio = f.Refs[i].Median / f.Refs[0].Median
		}
	}
	return f
}
