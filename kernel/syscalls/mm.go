package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
)

func init() {
	register(sysBrk, unix.SYS_BRK)
	register(sysMmap, unix.SYS_MMAP)
	register(sysMunmap, unix.SYS_MUNMAP)
	register(sysMprotect, unix.SYS_MPROTECT)
	register(sysMremap, unix.SYS_MREMAP)
	register(sysMadvise, unix.SYS_MADVISE)
	register(sysNothingToDo, unix.SYS_MLOCK, unix.SYS_MUNLOCK, unix.SYS_MLOCKALL, unix.SYS_MUNLOCKALL)
	register(sysMsync, unix.SYS_MSYNC)
}

// sysNothingToDo succeeds: partition memory is locked and never swapped.
func sysNothingToDo(*Call) int64 { return 0 }

func sysBrk(c *Call) int64 {
	as := c.T.Proc.MM
	if c.Args[0] == 0 {
		return int64(as.Brk)
	}
	return int64(as.SetBrkTo(c.Args[0]))
}

func sysMmap(c *Call) int64 {
	addr, length, prot, flags, fd, off := c.Args[0], c.Args[1], int(c.Args[2]), int(c.Args[3]), int64(int32(c.Args[4])), c.Args[5]
	if length == 0 || off%mm.PageSize != 0 {
		return -int64(unix.EINVAL)
	}
	anon := flags&unix.MAP_ANONYMOUS != 0
	req := mm.MapRequest{Addr: addr &^ (mm.PageSize - 1), Length: length, Prot: prot, Flags: flags,
		Fixed: flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0, Kind: mm.KindAnon}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 && !c.T.Proc.MM.IsFree(req.Addr, length) {
		return -int64(unix.EEXIST)
	}
	if anon {
		return mapped(c.T.Proc.MM.Map(req))
	}
	if flags&unix.MAP_HUGETLB != 0 {
		// Huge pages of a file are hugetlbfs's alone, which the LWK does
		// not map: EINVAL, as Linux gives for any other file (UCX falls
		// back to normal pages then).
		return -int64(unix.EINVAL)
	}
	if flags&unix.MAP_SHARED != 0 {
		return mmapShared(c, req, fd, off)
	}
	// Private file mapping: partition pages filled by an offloaded pread
	// into the app's own (mirrored) addresses.
	req.Kind, req.FileOff, req.Populate = mm.KindFile, off, true
	req.Prot = prot | unix.PROT_WRITE
	got, err := c.T.Proc.MM.Map(req)
	if err != nil {
		return errno(err)
	}
	if n := offloadCall(c, unix.SYS_PREAD64, [6]uint64{uint64(fd), got, length, off}); n < 0 {
		c.T.Proc.MM.Unmap(got, length)
		return n
	}
	if prot&unix.PROT_WRITE == 0 {
		c.T.Proc.MM.Protect(got, length, prot)
	}
	return int64(got)
}

func sysMunmap(c *Call) int64 {
	if err := c.T.Proc.MM.Unmap(c.Args[0], c.Args[1]); err != nil {
		return errno(err)
	}
	return 0
}

func sysMprotect(c *Call) int64 {
	if err := c.T.Proc.MM.Protect(c.Args[0], c.Args[1], int(c.Args[2])); err != nil {
		return errno(err)
	}
	return 0
}

func sysMremap(c *Call) int64 {
	if c.Args[3]&unix.MREMAP_FIXED != 0 {
		return -int64(unix.EINVAL)
	}
	if c.Args[2] > c.Args[1] && c.T.Proc.MM.SharedFileAt(c.Args[0]) {
		return mremapShared(c)
	}
	to, err := c.T.Proc.MM.Remap(c.Args[0], c.Args[1], c.Args[2], c.Args[3]&unix.MREMAP_MAYMOVE != 0)
	if err != nil {
		return errno(err)
	}
	return int64(to)
}

func sysMadvise(c *Call) int64 {
	switch c.Args[2] {
	case unix.MADV_DONTNEED:
		if err := c.T.Proc.MM.DontNeed(c.Args[0], c.Args[1]); err != nil {
			return errno(err)
		}
	case unix.MADV_REMOVE:
		// Frees the pages of shared files (a hole in tmpfs): Linux's, on
		// mcexec's mirror of the same pages. Private memory has no backing
		// store to punch: EINVAL, as Linux. Shared anonymous memory keeps
		// its contents here.
		areas := c.T.Proc.MM.Covering(c.Args[0], c.Args[0]+c.Args[1])
		if areas == nil {
			return -int64(unix.ENOMEM)
		}
		files := 0
		for _, a := range areas {
			if a.Flags&unix.MAP_SHARED == 0 {
				return -int64(unix.EINVAL)
			}
			if a.File != nil {
				files++
			}
		}
		if files == 0 {
			return 0
		}
		return offload(c)
	case unix.MADV_WILLNEED:
		// libgomck_sde's first read of the counters page: the kernel
		// publishes to it from now on (publishCounters).
		if p := c.T.Proc; p.Counters != nil && covers(c.Args[0], c.Args[1], p.CountersAddr()) {
			p.CountersRead.Store(true)
		}
	}
	return 0
}

// covers says [addr, addr+length) holds page.
func covers(addr, length, page uint64) bool {
	return page != 0 && addr <= page && page < addr+length
}

// sysMsync writes back shared file mappings: mcexec's mirror maps the
// same pages at the same addresses, so Linux's msync there is the app's.
// Anonymous and private memory has nothing to write back; Linux's checks
// (alignment, flags, unmapped ranges: ENOMEM) come first.
func sysMsync(c *Call) int64 {
	addr, length, flags := c.Args[0], c.Args[1], c.Args[2]
	if addr%mm.PageSize != 0 || flags&^uint64(unix.MS_ASYNC|unix.MS_INVALIDATE|unix.MS_SYNC) != 0 ||
		flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return -int64(unix.EINVAL)
	}
	areas := c.T.Proc.MM.Covering(addr, addr+length)
	if areas == nil {
		return -int64(unix.ENOMEM)
	}
	for _, a := range areas {
		if a.File == nil || flags&unix.MS_SYNC == 0 {
			continue
		}
		lo, hi := max(addr, a.Start), min(addr+length, a.End)
		if r := offloadCall(c, unix.SYS_MSYNC, [6]uint64{lo, hi - lo, flags}); r < 0 {
			return r
		}
	}
	return 0
}
