package capture

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/crash/dumpfile"
)

// A dump is compression-bound (zstd's fastest level makes some 0.4 to
// 0.6 GB/s of a core here): as makedumpfile --num-threads, the blocks are
// read and compressed on as many goroutines as the CPUs capture may run
// on, and written in order by one.

// blockJob is one block of the dump: range rng, n bytes at off.
type blockJob struct {
	rng    int
	off, n uint64
}

// blocksOf lists the blocks of ranges, in the dump's order.
func blocksOf(ranges []dumpfile.Range) []blockJob {
	var out []blockJob
	for i, r := range ranges {
		for off := uint64(0); off < r.Size; off += dumpfile.BlockSize {
			out = append(out, blockJob{rng: i, off: off, n: min(dumpfile.BlockSize, r.Size-off)})
		}
	}
	return out
}

// encoders is how many goroutines encode blocks: the CPUs this process
// may run on (an instance's CPUs are not Linux's).
func encoders() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return 1
	}
	return max(1, set.Count())
}

// pipeline encodes the blocks with encode on up to workers goroutines,
// each with buffers of its own, and hands them to put in order; the first
// error stops it.
func pipeline(workers int, blocks []blockJob,
	encode func(b *blockJob, buf, dst []byte) (dumpfile.Encoded, error),
	put func(b *blockJob, e dumpfile.Encoded) error) error {
	if workers <= 1 {
		buf, dst := make([]byte, dumpfile.BlockSize), []byte(nil)
		for i := range blocks {
			e, err := encode(&blocks[i], buf, dst)
			if err == nil {
				err = put(&blocks[i], e)
			}
			if err != nil {
				return err
			}
			dst = e.Data
		}
		return nil
	}
	// A worker takes a pair of buffers before it takes a block, so at most
	// 2*workers blocks are in flight, and block j's result can go through
	// slot j%(2*workers) of a ring: j-2*workers has been put by then.
	window := 2 * workers
	type buffers struct{ buf, dst []byte }
	type result struct {
		e   dumpfile.Encoded
		bs  buffers
		err error
	}
	ring := make([]chan result, window)
	free := make(chan buffers, window)
	for i := range ring {
		ring[i] = make(chan result, 1)
		free <- buffers{buf: make([]byte, dumpfile.BlockSize)}
	}
	next := make(chan int, len(blocks))
	for i := range blocks {
		next <- i
	}
	close(next)
	stop := make(chan struct{})
	defer close(stop)
	for range workers {
		go func() {
			for {
				var bs buffers
				select {
				case bs = <-free:
				case <-stop:
					return
				}
				i, ok := <-next
				if !ok {
					return
				}
				e, err := encode(&blocks[i], bs.buf, bs.dst)
				bs.dst = e.Data
				ring[i%window] <- result{e, bs, err}
			}
		}()
	}
	for i := range blocks {
		r := <-ring[i%window]
		if r.err == nil {
			r.err = put(&blocks[i], r.e)
		}
		if r.err != nil {
			return r.err
		}
		free <- r.bs
	}
	return nil
}
