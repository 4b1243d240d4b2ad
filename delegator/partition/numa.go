package partition

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// noNUMA reports whether the kernel has no NUMA node directory (built
// without CONFIG_NUMA); the machine then behaves as one node 0.
func noNUMA() bool {
	_, err := os.Stat(sysNodeDir)
	return errors.Is(err, fs.ErrNotExist)
}

// Nodes returns the online NUMA node ids, sorted.
func Nodes() ([]int, error) {
	if noNUMA() {
		return []int{0}, nil
	}
	b, err := os.ReadFile(filepath.Join(sysNodeDir, "online"))
	if err == nil {
		nodes, err := ParseCPUList(string(b)) // same list syntax as CPUs
		if err != nil {
			return nil, fmt.Errorf("NUMA nodes: %w", err)
		}
		return nodes, nil
	}
	// Old kernels lack the "online" file: fall back to the node directories.
	ents, derr := os.ReadDir(sysNodeDir)
	if derr != nil {
		return nil, fmt.Errorf("NUMA nodes: %w", errors.Join(err, derr))
	}
	var nodes []int
	for _, e := range ents {
		if n, ok := nodeDirID(e.Name()); ok {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return []int{0}, nil
	}
	slices.Sort(nodes)
	return nodes, nil
}

// nodeDirID parses "node12" into 12.
func nodeDirID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "node")
	if !ok || !isDigits(rest) {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// NodeOfCPU returns the NUMA node CPU cpu belongs to.
func NodeOfCPU(cpu int) (int, error) {
	if noNUMA() {
		return 0, nil
	}
	nodes, err := Nodes()
	if err != nil {
		return 0, err
	}
	for _, n := range nodes {
		path := filepath.Join(sysNodeDir, "node"+strconv.Itoa(n), "cpulist")
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("node of CPU %d: %w", cpu, err)
		}
		if strings.TrimSpace(string(b)) == "" {
			continue // a memory-only node
		}
		cpus, err := ParseCPUList(string(b))
		if err != nil {
			return 0, fmt.Errorf("node of CPU %d: %s: %w", cpu, path, err)
		}
		if slices.Contains(cpus, cpu) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("CPU %d is on no online NUMA node", cpu)
}

// NodeFreeBytes returns MemFree of NUMA node node. Without NUMA support the
// machine-wide MemFree is node 0's.
func NodeFreeBytes(node int) (int64, error) {
	if noNUMA() {
		if node != 0 {
			return 0, fmt.Errorf("NUMA node %d does not exist (nodes: 0)", node)
		}
		return meminfoField(procMeminfo, "MemFree")
	}
	path := filepath.Join(sysNodeDir, "node"+strconv.Itoa(node), "meminfo")
	n, err := meminfoField(path, "MemFree")
	if errors.Is(err, fs.ErrNotExist) {
		nodes, _ := Nodes()
		return 0, fmt.Errorf("NUMA node %d does not exist (nodes: %s)", node, FormatCPUList(nodes))
	}
	if err != nil {
		return 0, fmt.Errorf("free memory of node %d: %w", node, err)
	}
	return n, nil
}
