package mm

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPinned checks that nothing the app asks frees a pinned page: each
// change of the mapping fails or leaves the page where it was, and exec
// (Reset) frees it.
func TestPinned(t *testing.T) {
	tests := []struct {
		name   string
		change func(as *AddressSpace, addr uint64) error
		want   error
	}{
		{"munmap", func(as *AddressSpace, addr uint64) error { return as.Unmap(addr, PageSize) }, unix.EINVAL},
		{"munmap around it", func(as *AddressSpace, addr uint64) error { return as.Unmap(addr-PageSize, 3*PageSize) }, unix.EINVAL},
		{"mmap MAP_FIXED over it", func(as *AddressSpace, addr uint64) error {
			_, err := as.Map(MapRequest{Addr: addr, Length: PageSize, Fixed: true, Prot: unix.PROT_READ, Kind: KindAnon})
			return err
		}, unix.EINVAL},
		{"mremap", func(as *AddressSpace, addr uint64) error {
			_, err := as.Remap(addr, PageSize, 2*PageSize, true)
			return err
		}, unix.EINVAL},
		{"MADV_DONTNEED", func(as *AddressSpace, addr uint64) error { return as.DontNeed(addr, PageSize) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, a, _ := newAS(t, 64)
			addr, err := as.Map(MapRequest{Length: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS,
				Kind: KindAnon, Populate: true, Pinned: true})
			if err != nil {
				t.Fatal(err)
			}
			off, _, _ := as.Translate(addr)
			free := a.FreePages()
			if err := tc.change(as, addr); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			if got, _, ok := as.Translate(addr); !ok || got != off || a.FreePages() != free {
				t.Errorf("after %s: page at %#x (populated %v), %d free pages; want %#x, %d", tc.name, got, ok, a.FreePages(), off, free)
			}
			if err := as.Reset(); err != nil || a.FreePages() != free+1 {
				t.Errorf("Reset: %v, %d free pages; want the pinned page freed (%d)", err, a.FreePages(), free+1)
			}
		})
	}
}
