package mcexec

import "strconv"

// localRankEnv are the variables in which MPI launchers tell a process its
// rank among the processes of its node: Open MPI, MPICH's hydra, PMIx,
// Slurm's srun.
var localRankEnv = []string{"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMIX_LOCAL_RANK", "SLURM_LOCALID"}

// LocalRank is the node-local rank the launcher gave the program (getenv
// reads its environment), -1 if none did: mcexec -n shares the CPUs by it.
func LocalRank(getenv func(string) string) int {
	for _, name := range localRankEnv {
		if r, err := strconv.Atoi(getenv(name)); err == nil && r >= 0 {
			return r
		}
	}
	return -1
}
