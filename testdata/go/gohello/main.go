// Command gohello exercises the Go runtime under the LWK: heap growth and
// garbage collection (200 MiB allocated, about 50 MiB live), goroutines on
// several threads, channels and a WaitGroup. Its output is deterministic and
// does not depend on GOMAXPROCS, so runs can be compared byte for byte.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

const (
	workers   = 10
	chunks    = 20      // per worker: 10 * 20 * 1 MiB = 200 MiB allocated
	keep      = 5       // per worker: 10 * 5 * 1 MiB = 50 MiB live
	chunkWord = 1 << 17 // uint64 words in 1 MiB
)

// fill writes a pseudo-random sequence that depends only on the seed, so the
// checksums are the same whatever the scheduling.
func fill(s []uint64, seed uint64) {
	x := seed*0x9e3779b97f4a7c15 | 1
	for i := range s {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		s[i] = x
	}
}

func sum(s []uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range s {
		h = (h ^ v) * 1099511628211
	}
	return h
}

type result struct {
	worker, chunk int
	sum           uint64
}

func main() {
	if n := runtime.GOMAXPROCS(0); n < 1 {
		fmt.Println("bad GOMAXPROCS", n)
		os.Exit(1)
	}
	fmt.Println("hello from go")

	results := make(chan result, 16)
	live := make([][][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ring := make([][]uint64, keep)
			for c := range chunks {
				s := make([]uint64, chunkWord)
				fill(s, uint64(w*chunks+c+1))
				// Dropping the oldest chunk makes garbage for the collector while
				// the ring keeps the live set constant.
				ring[c%keep] = s
				results <- result{w, c, sum(s)}
			}
			live[w] = ring
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Results arrive in scheduling order; indexing them makes the output not.
	var sums [workers][chunks]uint64
	n := 0
	for r := range results {
		sums[r.worker][r.chunk] = r.sum
		n++
	}
	all := uint64(0)
	for w := range sums {
		for c := range sums[w] {
			all = all*31 + sums[w][c]
		}
	}
	fmt.Printf("chunks %d allocated %d MiB checksum %016x\n", n, n, all)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc < workers*keep<<20 {
		fmt.Println("live heap too small:", ms.HeapAlloc>>20, "MiB")
		os.Exit(1)
	}

	// The collector must not have reclaimed or clobbered the chunks still referenced.
	liveSum := uint64(0)
	for w := range live {
		for _, s := range live[w] {
			liveSum = liveSum*31 + sum(s)
		}
	}
	fmt.Printf("live %d MiB checksum %016x\n", workers*keep, liveSum)
	fmt.Println("gohello ok")
}
