package elf

import (
	"encoding/binary"
	"fmt"

	"github.com/gomck/gomck/kernel/mm"
)

// Auxiliary vector keys (elf.h).
const (
	AT_NULL         = 0
	AT_PHDR         = 3
	AT_PHENT        = 4
	AT_PHNUM        = 5
	AT_PAGESZ       = 6
	AT_BASE         = 7
	AT_FLAGS        = 8
	AT_ENTRY        = 9
	AT_UID          = 11
	AT_EUID         = 12
	AT_GID          = 13
	AT_EGID         = 14
	AT_PLATFORM     = 15
	AT_HWCAP        = 16
	AT_CLKTCK       = 17
	AT_SECURE       = 23
	AT_RANDOM       = 25
	AT_HWCAP2       = 26
	AT_EXECFN       = 31
	AT_SYSINFO_EHDR = 33
	AT_MINSIGSTKSZ  = 51
)

// StackInfo is what the initial stack needs beyond the image.
type StackInfo struct {
	Argv, Envp []string
	ExecFn     string
	Random     [16]byte
	Cred       [4]uint64 // uid, euid, gid, egid
	VDSO       uint64
	HostAux    map[uint64]uint64 // AT_HWCAP, AT_HWCAP2, AT_CLKTCK, AT_MINSIGSTKSZ of the host
	LWKAux     [][2]uint64       // the LWK's own entries (type, value), after the host's
}

// BuildStack writes the initial process stack below top and returns the
// stack pointer (pointing at argc) and the auxv as written.
func BuildStack(as *mm.AddressSpace, top uint64, img Image, si StackInfo) (sp uint64, auxv []uint64, err error) {
	// Strings go at the top, then the pointer block below them.
	var strs []byte
	addrOf := func(s string) uint64 {
		strs = append(strs, s...)
		strs = append(strs, 0)
		return uint64(len(strs))
	}
	random := func() uint64 { strs = append(strs, si.Random[:]...); return uint64(len(strs)) }()
	execfn := addrOf(si.ExecFn)
	platform := addrOf("x86_64")
	argv := make([]uint64, len(si.Argv))
	for i, a := range si.Argv {
		argv[i] = addrOf(a)
	}
	envp := make([]uint64, len(si.Envp))
	for i, e := range si.Envp {
		envp[i] = addrOf(e)
	}
	strBase := (top - uint64(len(strs))) &^ 15
	// addrOf recorded each string's end offset; its address is end-len.
	start := func(end uint64, n int) uint64 { return strBase + end - uint64(n) }

	auxv = []uint64{
		AT_PHDR, img.Phdr, AT_PHENT, 56, AT_PHNUM, img.Phnum, AT_PAGESZ, mm.PageSize,
		AT_BASE, img.Base, AT_FLAGS, 0, AT_ENTRY, img.ProgEntry,
		AT_UID, si.Cred[0], AT_EUID, si.Cred[1], AT_GID, si.Cred[2], AT_EGID, si.Cred[3],
		AT_SECURE, 0, AT_RANDOM, start(random, 16),
		AT_EXECFN, start(execfn, len(si.ExecFn)+1), AT_PLATFORM, start(platform, 7),
	}
	if si.VDSO != 0 {
		auxv = append(auxv, AT_SYSINFO_EHDR, si.VDSO)
	}
	for _, k := range []uint64{AT_HWCAP, AT_HWCAP2, AT_CLKTCK, AT_MINSIGSTKSZ} {
		if v, ok := si.HostAux[k]; ok {
			auxv = append(auxv, k, v)
		}
	}
	for _, kv := range si.LWKAux {
		auxv = append(auxv, kv[0], kv[1])
	}
	auxv = append(auxv, AT_NULL, 0)

	words := 1 + len(argv) + 1 + len(envp) + 1 + len(auxv)
	sp = (strBase - uint64(words)*8) &^ 15
	block := make([]byte, strBase-sp)
	w := 0
	put := func(v uint64) { binary.LittleEndian.PutUint64(block[w:], v); w += 8 }
	put(uint64(len(argv)))
	for i, a := range argv {
		put(start(a, len(si.Argv[i])+1))
	}
	put(0)
	for i, e := range envp {
		put(start(e, len(si.Envp[i])+1))
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	if err := as.CopyOut(strBase, strs); err != nil {
		return 0, nil, fmt.Errorf("write stack strings: %w", err)
	}
	if err := as.CopyOut(sp, block); err != nil {
		return 0, nil, fmt.Errorf("write stack: %w", err)
	}
	return sp, auxv, nil
}
