package partition

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fakeMeminfo = `MemTotal:       16000000 kB
MemFree:         8000000 kB
MemAvailable:   12000000 kB
`

// fakeNUMA makes the package see the given node directory content (nil:
// no node directory at all) and a fixed /proc/meminfo.
func fakeNUMA(t *testing.T, nodes map[string]string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"meminfo": fakeMeminfo})
	setVar(t, &procMeminfo, filepath.Join(dir, "meminfo"))
	nodeDir := filepath.Join(dir, "node")
	if nodes != nil {
		writeFiles(t, nodeDir, nodes)
	}
	setVar(t, &sysNodeDir, nodeDir)
}

func twoNodes() map[string]string {
	return map[string]string{
		"online":        "0-1\n",
		"node0/cpulist": "0-3\n",
		"node0/meminfo": "Node 0 MemTotal: 8000000 kB\nNode 0 MemFree:  1000 kB\n",
		"node1/cpulist": "4-7\n",
		"node1/meminfo": "Node 1 MemTotal: 8000000 kB\nNode 1 MemFree:  5000 kB\n",
	}
}

func TestNUMA(t *testing.T) {
	tests := []struct {
		name      string
		nodes     map[string]string
		wantNodes []int
		cpuNode   map[int]int   // cpu -> node
		free      map[int]int64 // node -> bytes
		badNode   int
	}{
		{
			name:      "no NUMA directory",
			wantNodes: []int{0},
			cpuNode:   map[int]int{0: 0, 5: 0},
			free:      map[int]int64{0: 8000000 * 1024},
			badNode:   1,
		},
		{
			name:      "two nodes",
			nodes:     twoNodes(),
			wantNodes: []int{0, 1},
			cpuNode:   map[int]int{0: 0, 3: 0, 4: 1, 7: 1},
			free:      map[int]int64{0: 1000 * 1024, 1: 5000 * 1024},
			badNode:   2,
		},
		{
			name: "no online file",
			nodes: map[string]string{
				"node0/cpulist": "0\n", "node0/meminfo": "Node 0 MemFree: 1 kB\n",
				"node2/cpulist": "\n", "node2/meminfo": "Node 2 MemFree: 2 kB\n",
			},
			wantNodes: []int{0, 2},
			cpuNode:   map[int]int{0: 0},
			free:      map[int]int64{0: 1024, 2: 2048},
			badNode:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeNUMA(t, tt.nodes)
			nodes, err := Nodes()
			if err != nil || !slices.Equal(nodes, tt.wantNodes) {
				t.Errorf("Nodes() = %v, %v; want %v", nodes, err, tt.wantNodes)
			}
			for cpu, want := range tt.cpuNode {
				if got, err := NodeOfCPU(cpu); err != nil || got != want {
					t.Errorf("NodeOfCPU(%d) = %d, %v; want %d", cpu, got, err, want)
				}
			}
			for node, want := range tt.free {
				if got, err := NodeFreeBytes(node); err != nil || got != want {
					t.Errorf("NodeFreeBytes(%d) = %d, %v; want %d", node, got, err, want)
				}
			}
			if _, err := NodeFreeBytes(tt.badNode); err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("NodeFreeBytes(%d) = %v; want does-not-exist error", tt.badNode, err)
			}
		})
	}
}

func TestAvailableBytes(t *testing.T) {
	fakeNUMA(t, nil)
	if got, err := AvailableBytes(); err != nil || got != 12000000*1024 {
		t.Errorf("AvailableBytes() = %d, %v", got, err)
	}
}

func TestPlanChunks(t *testing.T) {
	fakeNUMA(t, twoNodes()) // node 1 has 5 MB free, node 0 1 MB
	const M = 1 << 20
	tests := []struct {
		name    string
		nodes   []int
		in      []MemChunk
		want    []MemChunk
		wantErr string
	}{
		{"single node", []int{0}, []MemChunk{{3 * M, -1}}, []MemChunk{{4 * M, 0}}, ""},
		{"explicit", []int{0, 1}, []MemChunk{{2 * M, 0}, {2 * M, 1}}, []MemChunk{{2 * M, 0}, {2 * M, 1}}, ""},
		// node 1 is freer until 4 MiB are planned on it, then node 0 wins.
		{"most free", []int{0, 1}, []MemChunk{{4 * M, -1}, {2 * M, -1}}, []MemChunk{{4 * M, 1}, {2 * M, 0}}, ""},
		{"unknown node", []int{0, 1}, []MemChunk{{2 * M, 5}}, nil, "NUMA node 5 does not exist (nodes: 0-1)"},
		{"zero size", []int{0}, []MemChunk{{0, -1}}, nil, "greater than zero"},
	}
	for _, tt := range tests {
		got, _, err := planChunks(tt.in, tt.nodes)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: planChunks = %v, %v; want error %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: planChunks = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
