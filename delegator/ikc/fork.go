package ikc

// forkAvoidMax is how many pids NrFork's arguments carry, two per word.
const forkAvoidMax = 8

// tooMany marks a list of pids to avoid that did not fit.
const tooMany = ^uint64(0)

// ForkArgs packs NrFork's arguments: the attach token of the forked
// process, then the pids the forking process's unreaped children still
// hold. mcexec may give the forked process a child proxy it used before,
// whose pid becomes the process's pid; it must not be one of those.
func ForkArgs(token uint64, avoid []int) [6]uint64 {
	a := [6]uint64{token, uint64(len(avoid))}
	if len(avoid) > forkAvoidMax {
		a[1] = tooMany
		return a
	}
	for i, pid := range avoid {
		a[2+i/2] |= uint64(uint32(pid)) << (32 * (i % 2))
	}
	return a
}

// ParseForkArgs unpacks ForkArgs; reuse is false when the pids to avoid
// did not fit, so that no proxy used before may be given.
func ParseForkArgs(a [6]uint64) (token uint64, avoid []int, reuse bool) {
	if a[1] == tooMany || a[1] > forkAvoidMax {
		return a[0], nil, false
	}
	for i := 0; i < int(a[1]); i++ {
		avoid = append(avoid, int(uint32(a[2+i/2]>>(32*(i%2)))))
	}
	return a[0], avoid, true
}
