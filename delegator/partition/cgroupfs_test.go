package partition

import (
	"path/filepath"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/sys/fs/cgroup", "/sys/fs/cgroup"},
		{`/mnt/my\040dir`, "/mnt/my dir"},
		{`/a\134b`, `/a\b`},
		{`/odd\04`, `/odd\04`},
	}
	for _, tt := range tests {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestParentRel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b", "/a"}, {"/a", "/"}, {"/", "/"}, {"/a/b/", "/a"},
	}
	for _, tt := range tests {
		if got := parentRel(tt.in); got != tt.want {
			t.Errorf("parentRel(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSelfCgroup(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"cgroup": "4:memory:/jobs/x\n3:cpu,cpuacct:/\n2:cpuset:/gomck/a\n0::/user.slice\n"})
	setVar(t, &procSelfCgroup, filepath.Join(dir, "cgroup"))
	tests := []struct{ ctrl, want string }{
		{"cpuset", "/gomck/a"}, {"memory", "/jobs/x"}, {"cpuacct", "/"}, {"", "/user.slice"},
	}
	for _, tt := range tests {
		if got, err := selfCgroup(tt.ctrl); err != nil || got != tt.want {
			t.Errorf("selfCgroup(%q) = %q, %v; want %q", tt.ctrl, got, err, tt.want)
		}
	}
	if _, err := selfCgroup("pids"); err == nil {
		t.Errorf("selfCgroup(pids) found a hierarchy that is not there")
	}
}
