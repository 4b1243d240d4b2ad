package procview

import (
	"os"
	"path/filepath"

	"github.com/gomck/gomck/perf"
)

// The LWK's /sys/bus/event_source/devices: the host's PMUs, linked to as
// Linux lists them (their events count the proxy, or are probed on
// Linux), and the dynamic PMU lwk, the LWK's own events (perf.LWKSysfs),
// so that perf and libpfm find "lwk/syscalls_offloaded/" as they find any
// dynamic PMU's events.

func (v *Views) renderPMUs() error {
	dir := filepath.Join(v.root, perf.HostPMUs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(perf.HostPMUs)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range ents {
		if e.Name() == perf.LWKPMU {
			continue // the LWK's stands for a host one of its name
		}
		// The host's links are relative to its /sys: the view's point at
		// the host's entries.
		if err := os.Symlink(filepath.Join(perf.HostPMUs, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	lwk := filepath.Join(dir, perf.LWKPMU)
	for name, data := range perf.LWKSysfs(v.in.LWKType) {
		if err := writeView(filepath.Join(lwk, name), []byte(data), false, 0); err != nil {
			return err
		}
	}
	return nil
}
