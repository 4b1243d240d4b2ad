package mm

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// FileMap is the daemon's own MAP_SHARED mapping of a range of a file that
// app VMAs map shared (a regular file, /dev/shm, a memfd): the LWK reads
// and writes the app's shared file pages through it, as it does partition
// pages through the direct map, and they are Linux's page-cache pages, the
// very ones the stub, mcexec's mirror and every Linux process mapping the
// file see. Every VMA piece that maps it, in the process and in forked
// children, holds a reference; the last one unmaps it and closes FD.
type FileMap struct {
	refs atomic.Int32
	// FD is the daemon's descriptor of the open file (a copy of the
	// app's), which stubs and forked children's mirrors map from.
	FD int
	// Off is the file offset of Mem[0].
	Off uint64
	Mem []byte
	// Dev and Ino name the file: futex keys of its words.
	Dev, Ino uint64
	// Writable: the file is open for writing, so that a shared mapping
	// may be made writable (EACCES otherwise, as Linux).
	Writable bool
	// SysV: a System V shared memory segment (shmat), ShmID, not a file:
	// FD is -1 and Name what Linux's maps calls it.
	SysV  bool
	ShmID int
	Name  string
}

// OpenFileMap maps bytes [off, off+length) of fd, which it takes over
// (closing it on failure), into the daemon.
func OpenFileMap(fd int, off, length uint64) (*FileMap, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("shared file mapping: %w", err)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("shared file mapping: %w", err)
	}
	f := &FileMap{FD: fd, Off: off, Dev: st.Dev, Ino: st.Ino, Writable: fl&unix.O_ACCMODE == unix.O_RDWR}
	prot := unix.PROT_READ
	if f.Writable {
		prot |= unix.PROT_WRITE
	}
	if f.Mem, err = unix.Mmap(fd, int64(off), int(length), prot, unix.MAP_SHARED); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f.refs.Store(1)
	return f, nil
}

// AttachSysV attaches System V segment shmid to the daemon, read-only
// when the app's attachment is (SHM_RDONLY in flags).
func AttachSysV(shmid, flags int) (*FileMap, error) {
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(shmid, unix.IPC_STAT, &ds); err != nil {
		return nil, err
	}
	mem, err := unix.SysvShmAttach(shmid, 0, flags&lwkabi.ShmRdonly)
	if err != nil {
		return nil, err
	}
	f := &FileMap{FD: -1, Mem: mem, Dev: sysvDev, Ino: uint64(shmid), Writable: flags&lwkabi.ShmRdonly == 0,
		SysV: true, ShmID: shmid, Name: fmt.Sprintf("/SYSV%08x (deleted)", uint32(ds.Perm.Key))}
	f.refs.Store(1)
	return f, nil
}

// sysvDev stands for System V shared memory's device in futex keys.
const sysvDev = ^uint64(0)

func (f *FileMap) hold() { f.refs.Add(1) }

// Path is the file's path as Linux names it now: "(deleted)" once it
// is unlinked, "/memfd:NAME" for a memfd.
func (f *FileMap) Path() string {
	if f.SysV {
		return f.Name
	}
	b := make([]byte, unix.PathMax)
	n, err := unix.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.FD), b)
	if err != nil {
		return ""
	}
	return string(b[:n])
}

// release drops one reference; the last unmaps the file and closes it.
func (f *FileMap) release() {
	if f.refs.Add(-1) != 0 {
		return
	}
	if f.SysV {
		unix.SysvShmDetach(f.Mem)
	} else {
		unix.Munmap(f.Mem)
		unix.Close(f.FD)
	}
	f.Mem = nil
}

// bytes returns the daemon's bytes of v's file at [va, hi).
func (f *FileMap) bytes(v *VMA, va, hi uint64) []byte {
	at := v.FileOff - f.Off + va - v.Start
	return f.Mem[at : at+hi-va]
}

// fileKeyBit marks a futex key of a word of a shared file mapping; other
// keys are partition offsets, far below it.
const fileKeyBit = 1 << 63

// key is the futex key of the word at file offset off: the same in every
// process mapping the file. The file is named by a hash of its device and
// inode, so two files can meet on a key; a futex wait then sees a spurious
// wake-up at worst, which futex users tolerate.
func (f *FileMap) key(off uint64) uint64 {
	h := (f.Dev*0x9e3779b97f4a7c15 ^ f.Ino) * 0xff51afd7ed558ccd
	return fileKeyBit | (h>>40)<<40&^fileKeyBit | off&(1<<40-1)
}

// guarded runs fn, which touches a file's pages, and turns the fault a
// page beyond the file's end raises (SIGBUS: it was truncated under the
// mapping) into EFAULT, as Linux's copy_to_user/copy_from_user give.
func guarded(fn func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = unix.EFAULT
		}
	}()
	fn()
	return nil
}

// FutexWord is the word a futex call names: its key and where the LWK
// reads it.
type FutexWord struct {
	Key  uint64
	p    *uint32
	file bool
}

// Load reads the word as the app's atomic operations see it; ok is false
// when a truncated file no longer holds it.
func (w FutexWord) Load() (val uint32, ok bool) {
	if !w.file {
		return atomic.LoadUint32(w.p), true
	}
	err := guarded(func() { val = atomic.LoadUint32(w.p) })
	return val, err == nil
}

// fileWord is the futex word at va in v, a shared file VMA.
func fileWord(v *VMA, va uint64) FutexWord {
	b := v.File.bytes(v, va, va+4)
	return FutexWord{Key: v.File.key(v.FileOff + va - v.Start), p: (*uint32)(unsafe.Pointer(&b[0])), file: true}
}

// SharedFileAt reports whether addr lies in a shared file mapping.
func (as *AddressSpace) SharedFileAt(addr uint64) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	i := as.find(addr)
	return i >= 0 && as.VMAs[i].File != nil
}

// MoveFile moves [old, old+oldLen), a piece of one shared file mapping,
// to [to, to+newLen), growing it (mremap with MREMAP_MAYMOVE): the new
// area maps the same file from the same offset, through a daemon mapping
// of the new length.
func (as *AddressSpace) MoveFile(old, oldLen, newLen, to uint64) error {
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	as.lock()
	defer as.unlock()
	i := as.find(old)
	if i < 0 || as.VMAs[i].File == nil || as.VMAs[i].End < old+oldLen {
		return unix.EFAULT
	}
	if !as.free(to, to+newLen) {
		return unix.ENOMEM
	}
	v := as.VMAs[i]
	if v.File.SysV {
		return unix.EINVAL // a segment does not grow
	}
	fileOff := v.FileOff + old - v.Start
	dup, err := unix.FcntlInt(uintptr(v.File.FD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f, err := OpenFileMap(dup, fileOff, newLen)
	if err != nil {
		return err
	}
	m := &VMA{Start: to, End: to + newLen, Prot: v.Prot, Flags: v.Flags, Kind: v.Kind, Name: v.Name, FileOff: fileOff, Wrote: v.Wrote, File: f}
	if err := as.removeRange(old, old+oldLen); err != nil {
		f.release()
		return err
	}
	as.insert(m)
	if err := as.mapShared(m); err != nil {
		as.removeRange(to, to+newLen)
		return err
	}
	return nil
}

// Covering returns copies of the VMAs (without segments) that [lo, hi)
// meets, or nil if a page of it is unmapped (msync's ENOMEM).
func (as *AddressSpace) Covering(lo, hi uint64) []VMA {
	hi = pageUp(hi)
	as.mu.Lock()
	defer as.mu.Unlock()
	out := []VMA{}
	for at := lo; at < hi; {
		i := as.find(at)
		if i < 0 {
			return nil
		}
		v := *as.VMAs[i]
		v.Segs = nil
		out = append(out, v)
		at = v.End
	}
	return out
}

// maps reports whether a VMA maps f.
func (as *AddressSpace) maps(f *FileMap) bool {
	for _, v := range as.VMAs {
		if v.File == f {
			return true
		}
	}
	return false
}

// mapShared maps v, a shared mapping of a file or a System V segment,
// through the mapper.
func (as *AddressSpace) mapShared(v *VMA) error {
	if v.File.SysV {
		return as.mapper.AttachSysV(v.Start, v.File.ShmID, v.Prot)
	}
	return as.mapper.MapFile(v.Start, v.End-v.Start, v.File.FD, v.FileOff, v.Prot)
}

// DetachSysV removes the System V attachment that starts at addr (shmdt):
// the VMAs from addr on that map its segment, as far as they are
// contiguous. EINVAL if none starts there.
func (as *AddressSpace) DetachSysV(addr uint64) error {
	as.lock()
	defer as.unlock()
	i := as.find(addr)
	if i < 0 || as.VMAs[i].Start != addr || as.VMAs[i].File == nil || !as.VMAs[i].File.SysV {
		return unix.EINVAL
	}
	f, end := as.VMAs[i].File, as.VMAs[i].End
	for j := i + 1; j < len(as.VMAs) && as.VMAs[j].File == f && as.VMAs[j].Start == end; j++ {
		end = as.VMAs[j].End
	}
	return as.removeRange(addr, end)
}
