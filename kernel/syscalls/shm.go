package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/mm"
)

// System V shared memory: segments are Linux's (shmget and shmctl are
// offloaded), and an attachment maps them as a shared file mapping does
// (mm_file.go): mcexec's mirror attaches at the app's address (Linux
// checks the app's permissions there), the daemon attaches for its own
// reads and writes, and the stub at the app's address. A segment's
// shm_nattch therefore counts three attachments for each of the app's.
func init() {
	register(sysShmat, unix.SYS_SHMAT)
	register(sysShmdt, unix.SYS_SHMDT)
}

// shmLBA is SHMLBA on x86-64: a page.
const shmLBA = mm.PageSize

func sysShmat(c *Call) int64 {
	shmid, addr, flags := int(int32(c.Args[0])), c.Args[1], int(c.Args[2])
	if shmid < 0 {
		return -int64(unix.EINVAL)
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(shmid, unix.IPC_STAT, &ds); err != nil {
		return errno(err) // EINVAL for no such segment, as Linux
	}
	length := (uint64(ds.Segsz) + mm.PageSize - 1) &^ (mm.PageSize - 1)
	as := c.T.Proc.MM
	switch {
	case addr == 0:
		var ok bool
		if addr, ok = as.FindFree(length); !ok {
			return -int64(unix.ENOMEM)
		}
	case flags&lwkabi.ShmRnd != 0:
		addr &^= shmLBA - 1
	case addr%shmLBA != 0:
		return -int64(unix.EINVAL)
	}
	if flags&lwkabi.ShmRemap == 0 && !as.IsFree(addr, length) {
		return -int64(unix.EINVAL) // Linux's answer for an address in use
	}
	prot := unix.PROT_READ
	if flags&lwkabi.ShmRdonly == 0 {
		prot |= unix.PROT_WRITE
	}
	if flags&lwkabi.ShmExec != 0 {
		prot |= unix.PROT_EXEC
	}
	// mcexec first: Linux's permission checks, with the app's credentials.
	if r := offloadCall(c, unix.SYS_SHMAT, [6]uint64{uint64(shmid), addr, uint64(lwkabi.ShmFlags(prot) | lwkabi.ShmRemap)}); r < 0 {
		return r
	}
	f, err := mm.AttachSysV(shmid, lwkabi.ShmFlags(prot))
	if err == nil {
		_, err = as.Map(mm.MapRequest{Addr: addr, Length: length, Prot: prot, Flags: unix.MAP_SHARED, Fixed: true,
			Kind: mm.KindFile, Name: f.Name, File: f})
	}
	if err != nil {
		offloadCall(c, unix.SYS_SHMDT, [6]uint64{addr})
		return errno(err)
	}
	return int64(addr)
}

// sysShmdt detaches the attachment at addr: every piece of it, as Linux
// does (mprotect may have split it).
func sysShmdt(c *Call) int64 {
	if c.Args[0]%shmLBA != 0 {
		return -int64(unix.EINVAL)
	}
	if err := c.T.Proc.MM.DetachSysV(c.Args[0]); err != nil {
		return errno(err)
	}
	return 0
}
