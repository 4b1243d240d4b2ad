package noise

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is one CPU's quantum times.
type Summary struct {
	Samples int           `json:"samples"`
	Min     time.Duration `json:"min_ns"`
	Median  time.Duration `json:"median_ns"`
	P99     time.Duration `json:"p99_ns"`
	P999    time.Duration `json:"p99_9_ns"`
	Max     time.Duration `json:"max_ns"`
	// Noise is the share of the time not spent on the work at the pace
	// of the fastest quantum: (sum - n*min) / sum.
	Noise float64 `json:"noise"`
}

// Summarize computes the summary of quantum times (in any order).
func Summarize(quanta []time.Duration) (Summary, error) {
	if len(quanta) == 0 {
		return Summary{}, fmt.Errorf("no quanta measured")
	}
	q := slices.Clone(quanta)
	slices.Sort(q)
	var sum float64
	for _, d := range q {
		if d <= 0 {
			return Summary{}, fmt.Errorf("a quantum of %v: the clock went backwards", d)
		}
		sum += float64(d)
	}
	s := Summary{
		Samples: len(q),
		Min:     q[0],
		Median:  rank(q, 0.5),
		P99:     rank(q, 0.99),
		P999:    rank(q, 0.999),
		Max:     q[len(q)-1],
		Noise:   (sum - float64(len(q))*float64(q[0])) / sum,
	}
	return s, nil
}

// rank is the nearest-rank percentile p of sorted.
func rank(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
