package capture

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gomck/gomck/crash/dumpfile"
)

// TestPipeline: blocks encoded on several goroutines are put in order,
// each with its own bytes, and the first error stops the dump.
func TestPipeline(t *testing.T) {
	ranges := []dumpfile.Range{{Size: 5*dumpfile.BlockSize + 4096}, {Size: 40 * dumpfile.BlockSize}}
	blocks := blocksOf(ranges)
	if len(blocks) != 46 || blocks[5].n != 4096 || blocks[6].rng != 1 {
		t.Fatalf("blocksOf: %d blocks, 6th %+v, 7th %+v", len(blocks), blocks[5], blocks[6])
	}
	boom := errors.New("boom")
	for _, workers := range []int{1, 2, 3, 8} {
		for _, failAt := range []int{-1, 0, 3, 1020, 1039} {
			encode := func(b *blockJob, buf, dst []byte) (dumpfile.Encoded, error) {
				i := b.rng*1000 + int(b.off/dumpfile.BlockSize)
				if i == failAt {
					return dumpfile.Encoded{}, boom
				}
				binary.LittleEndian.PutUint64(buf, uint64(i))
				return dumpfile.Encoded{Len: int(b.n), Data: append(dst[:0], buf[:8]...)}, nil
			}
			var got []int
			err := pipeline(workers, blocks, encode, func(b *blockJob, e dumpfile.Encoded) error {
				got = append(got, int(binary.LittleEndian.Uint64(e.Data)))
				return nil
			})
			var want []int
			for _, b := range blocks {
				i := b.rng*1000 + int(b.off/dumpfile.BlockSize)
				if i == failAt {
					break
				}
				want = append(want, i)
			}
			if (err != nil) != (failAt >= 0) || len(got) != len(want) {
				t.Errorf("%d workers, failing at %d: error %v, %d blocks put, want %d", workers, failAt, err, len(got), len(want))
				continue
			}
			for k := range got {
				if got[k] != want[k] {
					t.Errorf("%d workers: block %d put as %d, want %d", workers, k, got[k], want[k])
					break
				}
			}
		}
	}
}
