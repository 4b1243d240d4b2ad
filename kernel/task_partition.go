package kernel

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel/task"
)

// Partitioned execution (McKernel's mcexec -n PPN): an MPI launcher's
// daemon (Open MPI's orted or mpirun, MPICH's hydra_pmi_proxy) starts PPN
// mcexec processes on the node, and each gets its share of the instance's
// CPUs by local rank: rank r of PPN on N CPUs gets N/PPN CPUs from r*N/PPN
// on (the rest stay unused, as in McKernel), or with more processes than
// CPUs (mcreboot -O only) CPU r mod N, which ranks then time-share. The
// share holds the process's threads and forked children (their affinity
// may narrow it, never leave it). Memory is not divided: every process
// allocates from the whole partition, as McKernel's -n leaves memory to
// NUMA policy.

// PartExec is one partitioned execution: the processes started by one
// parent, as McKernel's mcctrl groups them by mcexec's parent.
type PartExec struct {
	Parent int   // the mcexec processes' parent on Linux
	PPN    int   // mcexec -n
	Ranks  []int // LWK pid by local rank, 0 while not taken
}

// joinPartExec gives p its rank and CPU share among the ppn processes of
// parent, the rank as the launcher numbered it (rank < 0: the lowest
// free). The errors are McKernel's cases: a share that does not exist.
func (k *OS) joinPartExec(p *task.Process, parent, ppn, rank int) error {
	ncpu := len(k.CPUs)
	switch {
	case ppn <= 0:
		return fmt.Errorf("-n %d: invalid number of processes: %w", ppn, unix.EINVAL)
	case ppn > ncpu && !k.Config.Oversubscribe:
		return fmt.Errorf("-n %d: nr_processes can't exceed nr. of CPUs (%d) without oversubscription (mcreboot -O): %w", ppn, ncpu, unix.EINVAL)
	case rank >= ppn:
		return fmt.Errorf("-n %d: local rank %d out of range: %w", ppn, rank, unix.EINVAL)
	}
	k.partMu.Lock()
	defer k.partMu.Unlock()
	i := slices.IndexFunc(k.PartExecs, func(g *PartExec) bool { return g.Parent == parent })
	if i < 0 {
		k.PartExecs = append(k.PartExecs, &PartExec{Parent: parent, PPN: ppn, Ranks: make([]int, ppn)})
		i = len(k.PartExecs) - 1
	}
	g := k.PartExecs[i]
	if g.PPN != ppn {
		return fmt.Errorf("-n %d: the processes of parent %d run with -n %d: %w", ppn, parent, g.PPN, unix.EINVAL)
	}
	if rank < 0 {
		rank = slices.Index(g.Ranks, 0)
		if rank < 0 {
			return fmt.Errorf("-n %d: %d processes of parent %d run already: %w", ppn, ppn, parent, unix.EINVAL)
		}
	} else if g.Ranks[rank] != 0 {
		return fmt.Errorf("-n %d: local rank %d of parent %d runs already (pid %d): %w", ppn, rank, parent, g.Ranks[rank], unix.EINVAL)
	}
	g.Ranks[rank] = p.PID
	p.LocalRank, p.CPUShare = rank, cpuShare(ncpu, ppn, rank)
	return nil
}

// leavePartExec gives p's rank back; the execution is forgotten once no
// rank runs.
func (k *OS) leavePartExec(p *task.Process) {
	if p.CPUShare == 0 {
		return
	}
	k.partMu.Lock()
	defer k.partMu.Unlock()
	k.PartExecs = slices.DeleteFunc(k.PartExecs, func(g *PartExec) bool {
		if p.LocalRank < len(g.Ranks) && g.Ranks[p.LocalRank] == p.PID {
			g.Ranks[p.LocalRank] = 0
		}
		return !slices.ContainsFunc(g.Ranks, func(pid int) bool { return pid != 0 })
	})
}

// cpuShare is the CPU set (LWK CPU indexes) of local rank of ppn on ncpu
// CPUs.
func cpuShare(ncpu, ppn, rank int) uint64 {
	if ppn > ncpu {
		return 1 << (rank % ncpu)
	}
	per := ncpu / ppn
	return (1<<per - 1) << (rank * per)
}

// shareList names a share's LWK CPUs as a CPU list ("0-1").
func shareList(share uint64) string {
	var cpus []int
	for i := range 64 {
		if share&(1<<i) != 0 {
			cpus = append(cpus, i)
		}
	}
	return partition.FormatCPUList(cpus)
}
