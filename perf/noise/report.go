package noise

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// PrintTable writes the report as a table, one row per CPU, times in
// microseconds.
func PrintTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "FWQ: %d work steps a quantum (%v on Linux CPU), %v on each CPU\n", r.Iterations, r.Quantum, r.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CPU\tKERNEL\tSAMPLES\tMIN(us)\tMEDIAN(us)\tP99(us)\tP99.9(us)\tMAX(us)\tNOISE\t")
	for _, c := range r.CPUs {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%.6f\t\n", c.CPU, c.Kernel, c.Samples,
			us(c.Min), us(c.Median), us(c.P99), us(c.P999), us(c.Max), c.Noise)
	}
	return tw.Flush()
}

func us(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Microsecond)) }
