package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/mm"
)

// Shared file mappings (MAP_SHARED of a regular file, /dev/shm, a memfd)
// map Linux's pages of the file, not partition memory, so that they are
// coherent with read and write on Linux, with other LWK processes and
// with Linux processes mapping the file. Three mappings of the same pages
// make that work: the stub's (the app's own), mcexec's mirror at the same
// address (Linux executes the app's offloaded calls there) and the
// daemon's (the LWK's own reads and writes, futex words). The daemon
// takes its copy of the app's descriptor from mcexec (pidfd_getfd), the
// stub from the daemon.

// devZero is /dev/zero's device number: its shared mappings are shared
// anonymous memory, as Linux makes them.
var devZero = unix.Mkdev(1, 5)

// mmapShared serves mmap(MAP_SHARED) of descriptor fd at file offset off.
func mmapShared(c *Call, req mm.MapRequest, fd int64, off uint64) int64 {
	if fd < 0 || fd >= ikc.ReservedFD {
		return -int64(unix.EBADF)
	}
	dfd, r := proxyFD(c, int(fd))
	if r < 0 {
		return r
	}
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		unix.Close(dfd)
		return errno(err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == devZero:
		unix.Close(dfd)
		req.Kind, req.Flags = mm.KindAnon, req.Flags|unix.MAP_ANONYMOUS
		return mapped(c.T.Proc.MM.Map(req))
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		unix.Close(dfd)
		return -int64(unix.ENODEV) // devices: not mapped on this LWK
	}
	fl, err := unix.FcntlInt(uintptr(dfd), unix.F_GETFL, 0)
	if err != nil {
		unix.Close(dfd)
		return errno(err)
	}
	write := req.Prot&unix.PROT_WRITE != 0
	if mode := fl & unix.O_ACCMODE; mode == unix.O_WRONLY || write && (mode != unix.O_RDWR || fl&unix.O_APPEND != 0) {
		unix.Close(dfd)
		return -int64(unix.EACCES) // Linux's checks, before MAP_FIXED unmaps anything
	}
	length := (req.Length + mm.PageSize - 1) &^ (mm.PageSize - 1)
	f, err := mm.OpenFileMap(dfd, off, length)
	if err != nil {
		return errno(err)
	}
	req.Kind, req.FileOff, req.File = mm.KindFile, off, f
	req.Name = f.Path()
	addr, err := c.T.Proc.MM.Map(req)
	if err != nil {
		return errno(err)
	}
	// mcexec's mirror maps the same pages from the app's own descriptor,
	// after the log's changes (MAP_FIXED's unmap among them).
	mirrorProt := uint64(unix.PROT_READ)
	if f.Writable {
		mirrorProt |= unix.PROT_WRITE
	}
	if r := offloadCall(c, unix.SYS_MMAP, [6]uint64{addr, length, mirrorProt, unix.MAP_SHARED | unix.MAP_FIXED, uint64(fd), off}); r < 0 {
		c.T.Proc.MM.Unmap(addr, length)
		return r
	}
	return int64(addr)
}

// proxyFD returns the daemon's copy of the app's descriptor fd (mcexec's).
func proxyFD(c *Call, fd int) (int, int64) {
	pidfd, err := unix.PidfdOpen(c.T.Proc.ProxyPID, 0)
	if err != nil {
		return -1, -int64(unix.EBADF)
	}
	defer unix.Close(pidfd)
	dfd, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, errno(err)
	}
	return dfd, 0
}

// mapped is an mmap's result.
func mapped(addr uint64, err error) int64 {
	if err != nil {
		return errno(err)
	}
	return int64(addr)
}

// mremapShared grows a shared file mapping. It always moves (Linux may):
// mcexec moves its mirror first, to the place the LWK picked, so that
// the log's unmap of the old range, replayed at mcexec's next call, finds
// nothing of the file there. Growing in place would need the mirror's
// reservation beyond it gone first; without MREMAP_MAYMOVE it is ENOMEM.
func mremapShared(c *Call) int64 {
	old, oldLen, newLen, flags := c.Args[0], c.Args[1], c.Args[2], c.Args[3]
	if old%mm.PageSize != 0 {
		return -int64(unix.EINVAL)
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return -int64(unix.ENOMEM)
	}
	as := c.T.Proc.MM
	to, ok := as.FindFree(newLen)
	if !ok {
		return -int64(unix.ENOMEM)
	}
	if r := offloadCall(c, unix.SYS_MREMAP, [6]uint64{old, oldLen, newLen, unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED, to}); r < 0 {
		return r
	}
	if err := as.MoveFile(old, oldLen, newLen, to); err != nil {
		return errno(err)
	}
	return int64(to)
}
