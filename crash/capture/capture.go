package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/gencore"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/lwkabi"
)

// Options say what to dump where.
type Options struct {
	Instance int
	Level    int    // dumpfile.Level0 or Level24
	Path     string // "" for mcdump_N_TIMESTAMP in the cwd
	Reason   string // why: "ihkosctl dump", "panic", "hung"
	Progress io.Writer
}

// Result tells what was dumped.
type Result struct {
	Path         string
	Size         int64 // of the file
	Memory       uint64
	Stored, Zero uint64 // bytes of memory written, omitted as zero
	Threads      int
	Records      string // "" when the kernel's records were read, else why not
	Elapsed      time.Duration
	DaemonPID    int
}

// DefaultPath is McKernel's name for a dump of instance n taken at t.
func DefaultPath(n int, t time.Time) string {
	return fmt.Sprintf("mcdump_%d_%s", n, t.Format("20060102_150405"))
}

// Capture dumps instance o.Instance. A failed dump leaves no file.
func Capture(o Options) (*Result, error) {
	if o.Level != dumpfile.Level0 && o.Level != dumpfile.Level24 {
		return nil, fmt.Errorf("dump level %d: want 0 (everything) or 24 (the kernel's memory only)", o.Level)
	}
	start := time.Now()
	pid, err := inspect.DaemonPID(o.Instance)
	if err != nil {
		return nil, err
	}
	if o.Path == "" {
		o.Path = DefaultPath(o.Instance, start)
	}
	ranges, files, err := readMaps(pid, o.Instance, o.Level)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(o.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	res, err := capture(f, pid, o, ranges, files)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.Path)
		return nil, err
	}
	res.Path, res.Elapsed = o.Path, time.Since(start)
	if st, err := os.Stat(o.Path); err == nil {
		res.Size = st.Size()
	}
	return res, nil
}

func capture(f *os.File, pid int, o Options, ranges []dumpfile.Range, files []gencore.Area) (*Result, error) {
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, fmt.Errorf("read the daemon's memory (pid %d; root or the daemon's user): %w", pid, err)
	}
	defer mem.Close()
	pagemap, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return nil, fmt.Errorf("the daemon's page map (pid %d): %w", pid, err)
	}
	defer pagemap.Close()
	res := &Result{DaemonPID: pid}
	c := &dumpfile.Contents{
		Header:  dumpfile.Header{Instance: o.Instance, Level: o.Level, DaemonPID: pid, Time: time.Now().UTC().Format(time.RFC3339), Reason: o.Reason},
		Process: gencore.Process{PID: pid, Name: "mckernel", State: 'R'},
		Files:   files,
	}
	c.Header.Kernel, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	c.Auxv = auxv(pid)
	res.Records = records(o.Instance, c)
	res.Threads = len(c.Threads)

	var total uint64
	for _, r := range ranges {
		total += r.Size
	}
	res.Memory = total
	bar := progress(o.Progress, int64(total))
	workers := encoders()
	w, err := dumpfile.NewWriter(f, ranges, workers)
	if err != nil {
		return nil, err
	}
	src := &source{pid: pid, mem: mem, pagemap: pagemap}
	defer src.close()
	err = pipeline(workers, blocksOf(ranges), func(b *blockJob, buf, dst []byte) (dumpfile.Encoded, error) {
		data, err := src.block(ranges[b.rng], b.off, b.n, buf)
		if err != nil {
			return dumpfile.Encoded{}, fmt.Errorf("read the daemon at %#x: %w", ranges[b.rng].VA+b.off, err)
		}
		if &data[0] != &buf[0] && !dumpfile.IsZero(data) {
			// The app may be writing the partition: compressed in place,
			// a block could change under the encoder and fail its
			// checksum. A zero one is left out without a copy.
			data = buf[:copy(buf, data)]
		}
		return w.Encode(data, dst), nil
	}, func(b *blockJob, e dumpfile.Encoded) error {
		bar.Add64(int64(e.Len))
		return w.Put(b.rng, e)
	})
	if err != nil {
		return nil, err
	}
	bar.Finish()
	if err := w.Finish(c); err != nil {
		return nil, err
	}
	res.Stored, res.Zero = w.Stored, w.Zero
	return res, nil
}

// source reads the daemon's memory: the partition from a mapping of its
// memfd, the rest through /proc/PID/mem.
type source struct {
	pid          int
	mem, pagemap *os.File
	mu           sync.Mutex
	parts        map[uint64][]byte // by range start; nil where unmapped
}

// block returns the n bytes of r at off: in the partition's mapping, or
// read into buf.
func (s *source) block(r dumpfile.Range, off, n uint64, buf []byte) ([]byte, error) {
	if part := s.partition(r); part != nil {
		return part[off : off+n], nil
	}
	pm := make([]byte, 8*dumpfile.BlockSize/gencore.PageSize)
	return buf[:n], readBlock(s.mem, s.pagemap, r.VA+off, buf[:n], pm)
}

// partition maps the partition's memfd, opened through the daemon's
// map_files (root), or returns nil: a mapping saves the copy of every
// zero block, and reading the daemon's mapping through /proc/PID/mem
// instead is several times slower. Its pages are all
// populated (pre-faulted at boot), so the mapping is populated at once.
func (s *source) partition(r dumpfile.Range) []byte {
	if r.PA == dumpfile.NoPA {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.parts[r.VA]; ok {
		return m
	}
	if s.parts == nil {
		s.parts = map[uint64][]byte{}
	}
	s.parts[r.VA] = nil
	f, err := os.Open(fmt.Sprintf("/proc/%d/map_files/%x-%x", s.pid, r.VA, r.VA+r.Size))
	if err != nil {
		return nil
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), int64(r.PA), int(r.Size), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil
	}
	s.parts[r.VA] = m
	return m
}

func (s *source) close() {
	for _, m := range s.parts {
		if m != nil {
			unix.Munmap(m)
		}
	}
}

// readBlock reads the populated pages of [va, va+len(b)) into b, zeros
// elsewhere: an unpopulated page read through /proc/PID/mem would be
// faulted in.
func readBlock(mem, pagemap *os.File, va uint64, b, pm []byte) error {
	pages := (len(b) + gencore.PageSize - 1) / gencore.PageSize
	pm = pm[:8*pages]
	if _, err := pagemap.ReadAt(pm, int64(va/gencore.PageSize*8)); err != nil {
		return fmt.Errorf("page map: %w", err)
	}
	clear(b)
	for p := 0; p < pages; {
		if binary.LittleEndian.Uint64(pm[8*p:])&(3<<62) == 0 { // neither present nor swapped
			p++
			continue
		}
		q := p + 1
		for q < pages && binary.LittleEndian.Uint64(pm[8*q:])&(3<<62) != 0 {
			q++
		}
		lo, hi := p*gencore.PageSize, min(q*gencore.PageSize, len(b))
		if _, err := mem.ReadAt(b[lo:hi], int64(va)+int64(lo)); err != nil {
			return err
		}
		p = q
	}
	return nil
}

// readMaps lists the daemon's memory to dump: every readable mapping but
// the kernel's own pages ([vvar], [vsyscall]); the partition (the memfd
// of instance n) at level 0 only, with its offset as physical address.
// It also returns the file mappings, for NT_FILE.
func readMaps(pid, n, level int) ([]dumpfile.Range, []gencore.Area, error) {
	lines, err := lwkabi.ReadMaps(pid)
	if err != nil {
		return nil, nil, fmt.Errorf("the daemon's mappings (pid %d): %w", pid, err)
	}
	partition := fmt.Sprintf("/memfd:gomck-mcos%d (deleted)", n)
	var ranges []dumpfile.Range
	var files []gencore.Area
	for _, l := range lines {
		if strings.HasPrefix(l.Name, "/") && !strings.HasPrefix(l.Name, "/memfd:") {
			files = append(files, gencore.Area{Start: l.Start, End: l.End, File: l.Name, Offset: l.Offset})
		}
		if l.Perms[0] != 'r' || l.Name == "[vvar]" || l.Name == "[vvar_vclock]" || l.Name == "[vsyscall]" {
			continue
		}
		r := dumpfile.Range{VA: l.Start, Size: l.End - l.Start, PA: dumpfile.NoPA, Prot: lwkabi.ProtOf(l.Perms)}
		if l.Name == partition {
			if level == dumpfile.Level24 {
				continue
			}
			r.PA = l.Offset
		}
		ranges = append(ranges, r)
	}
	return ranges, files, nil
}

func auxv(pid int) []uint64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
	ws := make([]uint64, len(b)/8)
	for i := range ws {
		ws[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return ws
}

// records fills in what the kernel's records say (state, build id, kmsg,
// threads) and the apps' open files (their mcexecs') from the live daemon, and returns why not if they cannot be
// read: the dump is taken without them.
func records(n int, c *dumpfile.Contents) string {
	tg, err := inspect.Open(inspect.Options{Instance: n})
	if err != nil {
		return err.Error()
	}
	defer tg.Close()
	c.Header.BuildID = string(tg.BuildID)
	l, err := layout.Cached(layout.CacheDir(), tg.Kernel, string(tg.BuildID), lwk.Roots)
	if err != nil {
		return err.Error()
	}
	s, err := lwk.Read(tg, l, lwk.What{Kmsg: true, Regs: true})
	if err != nil {
		return err.Error()
	}
	c.Header.State, c.Kmsg = s.State, s.Kmsg
	for _, p := range s.Procs {
		// A process whose mcexec is gone has no files to record.
		files, _ := OpenFiles(p.PID, p.ProxyPID)
		c.OpenFiles = append(c.OpenFiles, files...)
		for _, t := range p.Threads {
			dt := dumpfile.Thread{PID: p.PID, TID: t.TID, CPU: t.CPU}
			if t.State != "" {
				dt.State = t.State[0]
			}
			dumpfile.SetRegs(&dt.Regs, t.Regs)
			c.Threads = append(c.Threads, dt)
		}
	}
	return ""
}

// progress is a progress bar of total bytes on out if it is a terminal,
// or one that shows nothing.
func progress(out io.Writer, total int64) *progressbar.ProgressBar {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressbar.NewOptions64(total, progressbar.OptionSetWriter(out), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("dumping"), progressbar.OptionThrottle(65*time.Millisecond),
			progressbar.OptionShowCount(), progressbar.OptionFullWidth(), progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }))
	}
	return progressbar.DefaultBytesSilent(total)
}

// DumpDirEnv names the variable that says where dumps taken without a
// person (on a panic, on a hang) go; DefaultDumpDir when unset.
const (
	DumpDirEnv     = "GOMCK_DUMPDIR"
	DefaultDumpDir = "/var/crash/gomck"
)

// DumpDir is where dumps taken without a person go.
func DumpDir() string {
	if d := os.Getenv(DumpDirEnv); d != "" {
		return d
	}
	return DefaultDumpDir
}
