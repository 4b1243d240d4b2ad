package procview

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomck/gomck/kernel/mm"
)

// The LWK's /sys/devices/system/cpu and node: the CPU and node lists name
// the LWK's CPUs and nodes, so glibc's sysconf(_SC_NPROCESSORS_ONLN),
// Python's os.cpu_count and libnuma count what the app can use. A CPU's or
// node's directory links to the host's (CPUs keep their host numbers, as
// sched_getaffinity and getcpu report them); a node's cpulist, cpumap,
// distance and meminfo are the LWK's.

const (
	sysCPU  = "/sys/devices/system/cpu"
	sysNode = "/sys/devices/system/node"
)

var (
	cpuDir  = regexp.MustCompile(`^cpu[0-9]+$`)
	nodeDir = regexp.MustCompile(`^node[0-9]+$`)
)

func (v *Views) renderCPUs() error {
	dir := filepath.Join(v.root, sysCPU)
	list := List(v.in.CPUs) + "\n"
	files := map[string]string{"online": list, "possible": list, "present": list, "offline": "\n"}
	if err := linkHostEntries(dir, sysCPU, files, cpuDir); err != nil {
		return err
	}
	for _, c := range v.in.CPUs {
		name := "cpu" + strconv.Itoa(c)
		if err := os.Symlink(filepath.Join(sysCPU, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return writeFiles(dir, files)
}

func (v *Views) renderNodes() error {
	dir := filepath.Join(v.root, sysNode)
	nodes := v.nodes()
	list := List(nodes) + "\n"
	files := map[string]string{"online": list, "possible": list, "has_cpu": List(v.in.CPUNodes) + "\n",
		"has_memory": list, "has_normal_memory": list}
	if err := linkHostEntries(dir, sysNode, files, nodeDir); err != nil {
		return err
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	for _, n := range nodes {
		var cpus []int
		for i, cn := range v.in.CPUNodes {
			if cn == n {
				cpus = append(cpus, v.in.CPUs[i])
			}
		}
		nd := map[string]string{"cpulist": List(cpus) + "\n", "cpumap": Mask(cpus) + "\n",
			"distance": nodeDistances(n, nodes) + "\n"}
		if err := writeFiles(filepath.Join(dir, "node"+strconv.Itoa(n)), nd); err != nil {
			return err
		}
	}
	v.renderNodeMeminfo()
	return nil
}

// renderNodeMeminfo refreshes every node's meminfo from the allocator.
func (v *Views) renderNodeMeminfo() {
	total, free := map[int]uint64{}, map[int]uint64{}
	v.in.Alloc.Lock()
	for _, n := range v.in.Alloc.Nodes {
		total[n.Node] += n.Pages * mm.PageSize
		free[n.Node] += n.Free * mm.PageSize
	}
	v.in.Alloc.Unlock()
	for _, n := range v.nodes() {
		file := filepath.Join(v.root, sysNode, "node"+strconv.Itoa(n), "meminfo")
		if err := writeView(file, NodeMeminfo(n, total[n], free[n]), false, 0); err != nil {
			v.in.Log("view %s: %v", file, err)
		}
	}
}

// nodeDistances is node n's row of the host's distance table, restricted
// to the LWK's nodes.
func nodeDistances(n int, nodes []int) string {
	b, err := os.ReadFile(fmt.Sprintf("%s/node%d/distance", sysNode, n))
	row := strings.Fields(string(b))
	var out []string
	for _, m := range nodes {
		d := "10"
		if m != n {
			d = "20"
		}
		if err == nil && m < len(row) {
			d = row[m]
		}
		out = append(out, d)
	}
	return strings.Join(out, " ")
}

// linkHostEntries makes dir and links into it every entry of the host's
// hostDir except those the view writes itself and the per-CPU or per-node
// directories (skip): the view lists only the LWK's.
func linkHostEntries(dir, hostDir string, own map[string]string, skip *regexp.Regexp) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(hostDir)
	if err != nil {
		return nil // no such host directory (no NUMA support): the view's own files only
	}
	for _, e := range ents {
		if _, mine := own[e.Name()]; mine || skip.MatchString(e.Name()) {
			continue
		}
		if err := os.Symlink(filepath.Join(hostDir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func writeFiles(dir string, files map[string]string) error {
	for name, data := range files {
		if err := writeView(filepath.Join(dir, name), []byte(data), false, 0); err != nil {
			return err
		}
	}
	return nil
}
