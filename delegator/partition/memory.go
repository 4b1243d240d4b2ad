package partition

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// pageSize is the granule NewMemory touches to fault pages in. It does not
// need to be the real page size: touching more often than needed is only
// slower, and every supported platform has 4 KiB base pages.
const pageSize = 4096

// Memory is the partition's "physical memory": one memfd whose content the
// LWK owns.
//
// FD deliberately does not have close-on-exec set, so that it can be handed
// to a child process as an inherited descriptor. The flip side is that every
// program the owner execs inherits it unless the owner closes it in the
// child or marks it close-on-exec itself (unix.CloseOnExec) when it does not
// want that; passing it over a unix socket with SCM_RIGHTS works either way.
type Memory struct {
	FD      int        // the memfd, named "gomck-<name>"
	Size    int64      // total bytes, the sum of Chunks
	Chunks  []MemChunk // Node always resolved to the node actually used
	Offsets []int64    // start offset of each chunk in the memfd
	Direct  []byte     // MAP_SHARED read/write mapping of the whole memfd: the LWK's direct map
	Locked  bool       // whether mlock succeeded (needs CAP_IPC_LOCK or a large RLIMIT_MEMLOCK)

	mu     sync.Mutex
	closed bool
}

// NewMemory reserves the partition memory described by chunks: it checks
// that the request fits, creates memfd "gomck-<name>", sizes it, maps it,
// binds each chunk to its NUMA node, faults every page in and locks it.
//
// Chunk sizes are rounded up to ChunkAlign. A chunk with Node -1 goes to the
// node with the most free memory. Binding is skipped on a single-node
// machine, where it could not change anything.
func NewMemory(name string, chunks []MemChunk) (*Memory, error) {
	if len(chunks) == 0 {
		return nil, fmt.Errorf("memory for %s: no chunks requested", name)
	}
	nodes, err := Nodes()
	if err != nil {
		return nil, fmt.Errorf("memory for %s: %w", name, err)
	}
	resolved, total, err := planChunks(chunks, nodes)
	if err != nil {
		return nil, fmt.Errorf("memory for %s: %w", name, err)
	}
	if err := checkFits(resolved, total, len(nodes) > 1); err != nil {
		return nil, fmt.Errorf("memory for %s: %w", name, err)
	}

	fd, err := unix.MemfdCreate("gomck-"+name, 0) // no MFD_CLOEXEC: see Memory
	if err != nil {
		return nil, fmt.Errorf("memory for %s: memfd_create: %w", name, err)
	}
	m := &Memory{FD: fd, Size: total, Chunks: resolved}
	fail := func(err error) (*Memory, error) {
		m.Close()
		return nil, fmt.Errorf("memory for %s (%s): %w", name, humanSize(total), err)
	}
	if err := unix.Ftruncate(fd, total); err != nil {
		return fail(fmt.Errorf("ftruncate: %w", err))
	}
	// No MAP_POPULATE: pages must be faulted in only after mbind has set
	// each range's node, or they would land wherever the faulting CPU is.
	m.Direct, err = unix.Mmap(fd, 0, int(total), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail(fmt.Errorf("mmap: %w", err))
	}
	var off int64
	for _, c := range resolved {
		m.Offsets = append(m.Offsets, off)
		if len(nodes) > 1 {
			// memfd memory is shmem: the policy is recorded on the file
			// range itself, so it also holds for mcexec's mappings.
			if err := mbind(m.Direct[off:off+c.Size], c.Node); err != nil {
				return fail(fmt.Errorf("bind %s at offset %#x to node %d: %w", FormatSize(c.Size), off, c.Node, err))
			}
		}
		off += c.Size
	}
	if err := populate(m.Direct); err != nil {
		return fail(err)
	}
	// Locking keeps the partition out of swap, like IHK's reserved memory.
	// Failing to lock leaves a working but swappable partition: not fatal.
	m.Locked = unix.Mlock(m.Direct) == nil
	return m, nil
}

// planChunks rounds the chunk sizes and resolves Node -1 to a real node,
// spreading such chunks to whichever node has the most free memory left.
func planChunks(chunks []MemChunk, nodes []int) ([]MemChunk, int64, error) {
	known := map[int]bool{}
	for _, n := range nodes {
		known[n] = true
	}
	planned := map[int]int64{} // bytes already placed per node
	var out []MemChunk
	var total int64
	for _, c := range chunks {
		if c.Size <= 0 {
			return nil, 0, fmt.Errorf("bad chunk size %d: must be greater than zero", c.Size)
		}
		size := roundUp(c.Size, ChunkAlign)
		node := c.Node
		switch {
		case node == -1 && len(nodes) == 1:
			node = nodes[0]
		case node == -1:
			best, bestFree := -1, int64(0)
			for _, n := range nodes {
				free, err := NodeFreeBytes(n)
				if err != nil {
					return nil, 0, err
				}
				if free -= planned[n]; best == -1 || free > bestFree {
					best, bestFree = n, free
				}
			}
			node = best
		case !known[node]:
			return nil, 0, fmt.Errorf("NUMA node %d does not exist (nodes: %s)", node, FormatCPUList(nodes))
		}
		planned[node] += size
		total += size
		if total < 0 {
			return nil, 0, fmt.Errorf("total memory size overflows")
		}
		out = append(out, MemChunk{Size: size, Node: node})
	}
	return out, total, nil
}

// linuxKeep is the memory left to Linux on top of a partition: a partition
// that takes the very last available byte makes the host thrash or OOM.
func linuxKeep(avail int64) int64 {
	return min(max(avail/16, 64<<20), 1<<30)
}

// checkFits refuses requests the host cannot satisfy without running into
// the OOM killer: machine-wide, in the caller's memory cgroup and, on
// NUMA machines, per node.
func checkFits(chunks []MemChunk, total int64, perNode bool) error {
	avail, err := AvailableBytes()
	if err != nil {
		return err
	}
	if keep := linuxKeep(avail); total > avail-keep {
		return fmt.Errorf("cannot reserve %s: only %s available, of which Linux keeps %s",
			humanSize(total), humanSize(avail), humanSize(keep))
	}
	if room, group, ok := cgroupMemHeadroom(); ok && total > room {
		return fmt.Errorf("cannot reserve %s: memory cgroup %s allows only %s more",
			humanSize(total), group, humanSize(room))
	}
	if !perNode {
		// One node: its MemFree is the machine's, and MemAvailable (which
		// counts reclaimable cache) is the better bound, checked above.
		return nil
	}
	want := map[int]int64{}
	for _, c := range chunks {
		want[c.Node] += c.Size
	}
	for node, size := range want {
		free, err := NodeFreeBytes(node)
		if err != nil {
			return err
		}
		if size > free {
			return fmt.Errorf("cannot reserve %s on NUMA node %d: only %s free there",
				humanSize(size), node, humanSize(free))
		}
	}
	return nil
}

// populate allocates every page of b. MADV_POPULATE_WRITE (Linux 5.14)
// reports a failure as an error; touching pages one by one would instead
// take a SIGBUS or the OOM killer, so it is only the fallback.
func populate(b []byte) error {
	for {
		err := unix.Madvise(b, unix.MADV_POPULATE_WRITE)
		if err == nil {
			return nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("populate: %w", err)
		}
		break // advice unknown to this kernel
	}
	for i := 0; i < len(b); i += pageSize {
		b[i] = 0
	}
	return nil
}

// NodeOf returns the NUMA node of partition offset off, or -1 when off is
// outside the partition.
func (m *Memory) NodeOf(off int64) int {
	if off < 0 || off >= m.Size {
		return -1
	}
	// The chunk that contains off is the last one starting at or before it.
	i := sort.Search(len(m.Offsets), func(i int) bool { return m.Offsets[i] > off }) - 1
	if i < 0 {
		return -1
	}
	return m.Chunks[i].Node
}

// Close unmaps the direct map and closes the memfd. The memory itself is
// freed when the last mapping and descriptor (for example mcexec's) go.
// Close is idempotent and safe for concurrent use.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	if m.Direct != nil {
		if err := unix.Munmap(m.Direct); err != nil {
			errs = append(errs, fmt.Errorf("munmap partition: %w", err))
		}
		m.Direct = nil
	}
	if m.FD >= 0 {
		if err := unix.Close(m.FD); err != nil {
			errs = append(errs, fmt.Errorf("close partition memfd: %w", err))
		}
		m.FD = -1
	}
	return errors.Join(errs...)
}
