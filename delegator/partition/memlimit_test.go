package partition

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCgroupMemHeadroom(t *testing.T) {
	tests := []struct {
		name      string
		mounts    string
		cgroup    string
		files     map[string]string
		want      int64
		wantGroup string
		wantOK    bool
	}{
		{
			name:   "v1 unlimited",
			mounts: "cgroup ROOT/mem cgroup rw,memory 0 0\n",
			cgroup: "4:memory:/a\n",
			files: map[string]string{
				"mem/a/memory.limit_in_bytes": "9223372036854771712\n", "mem/a/memory.usage_in_bytes": "100\n",
			},
		},
		{
			name:   "v1 parent limits",
			mounts: "cgroup ROOT/mem cgroup rw,memory 0 0\n",
			cgroup: "4:memory:/a/b\n",
			files: map[string]string{
				"mem/a/b/memory.limit_in_bytes": "9223372036854771712\n", "mem/a/b/memory.usage_in_bytes": "100\n",
				"mem/a/memory.limit_in_bytes": "1000\n", "mem/a/memory.usage_in_bytes": "300\n",
			},
			want: 700, wantGroup: "/a", wantOK: true,
		},
		{
			name:   "v2 own limit",
			mounts: "cgroup2 ROOT/u cgroup2 rw 0 0\n",
			cgroup: "0::/s/job\n",
			files: map[string]string{
				"u/s/job/memory.max": "4096\n", "u/s/job/memory.current": "5000\n",
				"u/s/memory.max": "max\n", "u/s/memory.current": "5000\n",
			},
			want: 0, wantGroup: "/s/job", wantOK: true,
		},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		files := map[string]string{"mounts": strings.ReplaceAll(tt.mounts, "ROOT", dir), "cgroup": tt.cgroup}
		for k, v := range tt.files {
			files[k] = v
		}
		writeFiles(t, dir, files)
		setVar(t, &procSelfMounts, filepath.Join(dir, "mounts"))
		setVar(t, &procSelfCgroup, filepath.Join(dir, "cgroup"))
		got, group, ok := cgroupMemHeadroom()
		if got != tt.want || group != tt.wantGroup || ok != tt.wantOK {
			t.Errorf("%s: cgroupMemHeadroom() = %d, %q, %v; want %d, %q, %v",
				tt.name, got, group, ok, tt.want, tt.wantGroup, tt.wantOK)
		}
	}
}
