package gencore

// ntX86XSaveLayout is NT_X86_XSAVE_LAYOUT, which Linux (6.12 on) writes
// once after the threads' notes: where each extended feature lies in the
// XSAVE areas of NT_X86_XSTATE, as this CPU lays them out.
const ntX86XSaveLayout = 0x205

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xsaveLayout is the NT_X86_XSAVE_LAYOUT body for an XSAVE area xs: a
// (type, size, offset, flags) record for each extended feature that its
// XCR0 enables and it holds (CPUID leaf 0xD); nil when there is none.
func xsaveLayout(xs []byte) []byte {
	if len(xs) < xcr0Off+8 {
		return nil
	}
	xcr0 := le.Uint64(xs[xcr0Off:])
	var b []byte
	for f := uint32(2); f < 64; f++ {
		if xcr0&(1<<f) == 0 {
			continue
		}
		size, off, _, _ := cpuid(0xd, f)
		if size == 0 || int(off)+int(size) > len(xs) {
			continue
		}
		rec := make([]byte, 16)
		le.PutUint32(rec, f)
		le.PutUint32(rec[4:], size)
		le.PutUint32(rec[8:], off)
		b = append(b, rec...)
	}
	return b
}

// xcr0Off is where an XSAVE area from ptrace holds XCR0, in the legacy
// area's software words.
const xcr0Off = 464
