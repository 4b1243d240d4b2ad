package main

// The process-pair figures (issue 19, time sharing without cliffs): two
// processes on one CPU, the LWK's or a Linux one, hand a turn back and
// forth while the other blocks.
//
//   - futex_pingpong_procs: bench/c/futex_pingpong's procs form, a forked
//     partner on MAP_SHARED memory and shared futexes; target at most 3x
//     the LWK's local round trip (getpid), as between threads.
//   - pipe_pingpong_1cpu: bench/c/pipe_pingpong, a byte over two pipes;
//     each round trip is four offloaded calls and two switches, so the
//     target is 1.5x four offloaded round trips (offloaded_syscall's) and
//     two switches (yield_switch's) of the same run.

// procsNeeds is choose's table for the process-pair figures.
func (b *bench) procsNeeds() map[string][]*series {
	return map[string][]*series{
		"futex_pingpong_procs": {&b.lwkFutexProcs, &b.lwkGetpid, &b.nativeFutexProcs},
		"pipe_pingpong_1cpu":   {&b.lwkPipe, &b.lwkDevnull, &b.lwkYield, &b.nativePipe},
	}
}

// procsFigures are the process-pair figures.
func (b *bench) procsFigures(ratioFig func(id, name, unit string, v *series, limit float64, below bool, target string, refs ...namedSeries) Figure) []Figure {
	budget := func(m float64) bool {
		off, sw := value(&b.lwkDevnull), value(&b.lwkYield)
		return off.Median > 0 && sw.Median > 0 && m <= 1.5*(4*off.Median+2*sw.Median)
	}
	return []Figure{
		ratioFig("futex_pingpong_procs", "futex ping-pong round trip between two processes, one CPU (MAP_SHARED)", "ns/op",
			&b.lwkFutexProcs, 3, false, "<= 3x", namedSeries{"LWK local", &b.lwkGetpid}, namedSeries{"native", &b.nativeFutexProcs}),
		boundFig("pipe_pingpong_1cpu", "pipe ping-pong round trip between two processes, one CPU", "ns/op", &b.lwkPipe, budget,
			"<= 1.5 x (4 offloaded + 2 switches)", namedSeries{"native", &b.nativePipe},
			namedSeries{"LWK offloaded", &b.lwkDevnull}, namedSeries{"LWK switch", &b.lwkYield}),
	}
}
