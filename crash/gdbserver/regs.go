package gdbserver

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/gomck/gomck/inspect/lwk"
)

// The x86-64 registers served, in the order of their remote numbers (the
// 'p' packet's, the 'g' packet's order, the target description's regnum):
// gdbserver's numbering for amd64 GNU/Linux with AVX, so that a gdb
// session reads the same as against a Linux process.
//
// A register's value comes from the thread's saved user registers (gpr:
// unix.PtraceRegs' field, as the snapshot names it) or from its saved
// XSAVE area (fp: see fpValue).
type register struct {
	name    string
	bits    int
	typ     string // the description's type
	group   string // the description's group, "" for gdb's default
	feature string
	gpr     string // PtraceRegs field, "" for an XSAVE register
	fp      fpReg
}

// fpReg says where an XSAVE register is: size bytes at off (that it is
// computed from, for fpTag), in state component comp (its XSTATE_BV bit;
// -1 for MXCSR, which XSAVE always stores).
type fpReg struct {
	kind      fpKind
	off, size int
	comp      int
}

type fpKind uint8

const (
	fpPlain  fpKind = iota // the bytes, zero-extended to the register's size
	fpTag                  // the full x87 tag word, from the abridged one
	fpOpcode               // the 11 bits of the last x87 opcode
)

// The features (gdb's names).
const (
	featCore     = "org.gnu.gdb.i386.core"
	featSSE      = "org.gnu.gdb.i386.sse"
	featLinux    = "org.gnu.gdb.i386.linux"
	featSegments = "org.gnu.gdb.i386.segments"
	featAVX      = "org.gnu.gdb.i386.avx"
	featAVX512   = "org.gnu.gdb.i386.avx512"
)

// XSAVE layout (Intel SDM vol. 1, 13.4): the legacy FXSAVE region, the
// XSAVE header, then the AVX component in the standard format.
const (
	xsFSW    = 2
	xsFTW    = 4 // abridged: one bit per physical register
	xsFOP    = 6
	xsMXCSR  = 24
	xsST     = 32  // ST0-ST7, 16 bytes apart
	xsXMM    = 160 // XMM0-XMM15
	xsXCR0   = 464 // the features the area covers, as Linux's ptrace stores them
	xsHeader = 512 // XSTATE_BV first
	xsYMMHi  = 576 // the upper halves of YMM0-YMM15
)

// avx512Layout is where the standard format puts the AVX-512 components,
// which differs between vendors (CPUID leaf 0xd): Intel's leaves room
// for MPX before them, AMD's (Zen 4, no MPX) does not. As gdb does for a
// core file (i387_guess_xsave_layout), the area's length tells which:
// each layout's area ends past its Hi16_ZMM component.
type avx512Layout struct {
	opmask  int // k0-k7
	zmmHi   int // the upper halves of ZMM0-ZMM15
	hi16ZMM int // ZMM16-ZMM31, 64 bytes each
}

// end is where the layout's AVX-512 state ends: an area that covers it
// is at least this long.
func (l avx512Layout) end() int { return l.hi16ZMM + 16*64 }

var (
	avx512Intel = avx512Layout{opmask: 1088, zmmHi: 1152, hi16ZMM: 1664}
	avx512AMD   = avx512Layout{opmask: 832, zmmHi: 896, hi16ZMM: 1408}
)

// xcr0AVX512 are XCR0's AVX-512 components: opmask, ZMM_Hi256, Hi16_ZMM.
const xcr0AVX512 = 0xe0

// x87 and SSE registers read in the state a fresh thread has, for a
// thread whose XSAVE area does not hold them.
var fpInit = map[string]uint64{"fctrl": 0x37f, "ftag": 0xffff, "mxcsr": 0x1f80}

// registers are the registers of every x86-64 description.
var registers = func() []register {
	var rs []register
	gpr := func(name, typ, field string, bits int) {
		rs = append(rs, register{name: name, bits: bits, typ: typ, feature: featCore, gpr: field})
	}
	for _, r := range []struct{ name, typ string }{{"rax", "int64"}, {"rbx", "int64"}, {"rcx", "int64"}, {"rdx", "int64"},
		{"rsi", "int64"}, {"rdi", "int64"}, {"rbp", "data_ptr"}, {"rsp", "data_ptr"}} {
		gpr(r.name, r.typ, strings.ToUpper(r.name[:1])+r.name[1:], 64)
	}
	for i := 8; i < 16; i++ {
		gpr(fmt.Sprintf("r%d", i), "int64", fmt.Sprintf("R%d", i), 64)
	}
	gpr("rip", "code_ptr", "Rip", 64)
	gpr("eflags", "i386_eflags", "Eflags", 32)
	for _, s := range []string{"cs", "ss", "ds", "es", "fs", "gs"} {
		gpr(s, "int32", strings.ToUpper(s[:1])+s[1:], 32)
	}
	fp := func(name string, bits int, typ, group, feature string, at fpReg) {
		rs = append(rs, register{name: name, bits: bits, typ: typ, group: group, feature: feature, fp: at})
	}
	x87 := func(name string, kind fpKind, off, size int) {
		fp(name, 32, "int", "float", featCore, fpReg{kind, off, size, 0})
	}
	for i := range 8 {
		fp(fmt.Sprintf("st%d", i), 80, "i387_ext", "", featCore, fpReg{fpPlain, xsST + 16*i, 10, 0})
	}
	x87("fctrl", fpPlain, 0, 2)
	x87("fstat", fpPlain, xsFSW, 2)
	x87("ftag", fpTag, 0, xsST+8*16) // from the abridged tag and ST0-ST7
	x87("fiseg", fpPlain, 12, 2)
	x87("fioff", fpPlain, 8, 4)
	x87("foseg", fpPlain, 20, 2)
	x87("fooff", fpPlain, 16, 4)
	x87("fop", fpOpcode, xsFOP, 2)
	for i := range 16 {
		fp(fmt.Sprintf("xmm%d", i), 128, "vec128", "", featSSE, fpReg{fpPlain, xsXMM + 16*i, 16, 1})
	}
	fp("mxcsr", 32, "i386_mxcsr", "vector", featSSE, fpReg{fpPlain, xsMXCSR, 4, -1})
	rs = append(rs, register{name: "orig_rax", bits: 64, typ: "int", group: "system", feature: featLinux, gpr: "Orig_rax"},
		register{name: "fs_base", bits: 64, typ: "int", feature: featSegments, gpr: "Fs_base"},
		register{name: "gs_base", bits: 64, typ: "int", feature: featSegments, gpr: "Gs_base"})
	for i := range 16 {
		fp(fmt.Sprintf("ymm%dh", i), 128, "uint128", "", featAVX, fpReg{fpPlain, xsYMMHi + 16*i, 16, 2})
	}
	return rs
}()

// avx512Registers follow registers where the threads' XSAVE areas hold
// AVX-512 state laid out as l says, in the order and types of gdb's
// avx512 feature: gdb builds $zmmN of xmmN, ymmNh and zmmNh.
func avx512Registers(l avx512Layout) []register {
	var rs []register
	reg := func(name string, bits int, typ string, at fpReg) {
		rs = append(rs, register{name: name, bits: bits, typ: typ, feature: featAVX512, fp: at})
	}
	for i := range 16 {
		reg(fmt.Sprintf("xmm%d", 16+i), 128, "vec128", fpReg{fpPlain, l.hi16ZMM + 64*i, 16, 7})
	}
	for i := range 16 {
		reg(fmt.Sprintf("ymm%dh", 16+i), 128, "uint128", fpReg{fpPlain, l.hi16ZMM + 64*i + 16, 16, 7})
	}
	for i := range 8 {
		reg(fmt.Sprintf("k%d", i), 64, "uint64", fpReg{fpPlain, l.opmask + 8*i, 8, 5})
	}
	for i := range 16 {
		reg(fmt.Sprintf("zmm%dh", i), 256, "v2ui128", fpReg{fpPlain, l.zmmHi + 32*i, 32, 6})
	}
	for i := range 16 {
		reg(fmt.Sprintf("zmm%dh", 16+i), 256, "v2ui128", fpReg{fpPlain, l.hi16ZMM + 64*i + 32, 32, 7})
	}
	return rs
}

// description is the registers served and their target description.
type description struct {
	regs []register
	xml  string
}

var (
	descBase        = newDescription(registers)
	descAVX512Intel = newDescription(slices.Concat(registers, avx512Registers(avx512Intel)))
	descAVX512AMD   = newDescription(slices.Concat(registers, avx512Registers(avx512AMD)))
)

// descriptionFor is the description for threads whose XSAVE area is xs:
// with AVX-512 if the area says it covers it (by XCR0 in the area), laid
// out as the area's length says, as gdb picks one for a core file.
func descriptionFor(xs []byte) description {
	if len(xs) < xsXCR0+8 || binary.LittleEndian.Uint64(xs[xsXCR0:])&xcr0AVX512 != xcr0AVX512 {
		return descBase
	}
	switch {
	case len(xs) >= avx512Intel.end():
		return descAVX512Intel
	case len(xs) >= avx512AMD.end():
		return descAVX512AMD
	}
	return descBase
}

// regValue is register r of thread t, little-endian; ok is false if the
// thread's saved registers were not read (an unavailable register).
func regValue(r register, t *lwk.Thread) (v []byte, ok bool) {
	if r.gpr == "" {
		return fpValue(r, t.FPState), true
	}
	w, ok := t.Regs[r.gpr]
	return binary.LittleEndian.AppendUint64(nil, w)[:r.bits/8], ok
}

// fpValue is an XSAVE register's bytes. A component the area does not
// hold (a short area, or its XSTATE_BV bit clear: the registers are in
// their initial state and the area's bytes are stale) reads as that
// initial state.
func fpValue(r register, xs []byte) []byte {
	out := make([]byte, r.bits/8)
	held := len(xs) >= r.fp.off+r.fp.size
	if held && r.fp.comp >= 0 && len(xs) >= xsHeader+8 {
		held = binary.LittleEndian.Uint64(xs[xsHeader:])&(1<<r.fp.comp) != 0
	}
	if !held {
		binary.LittleEndian.PutUint32(out, uint32(fpInit[r.name])) // every such register has >= 32 bits
		return out
	}
	switch r.fp.kind {
	case fpTag:
		binary.LittleEndian.PutUint32(out, uint32(fullTag(xs)))
	case fpOpcode:
		binary.LittleEndian.PutUint32(out, uint32(binary.LittleEndian.Uint16(xs[r.fp.off:])&0x7ff))
	default:
		copy(out, xs[r.fp.off:r.fp.off+r.fp.size])
	}
	return out
}

// fullTag rebuilds the x87 tag word (two bits per physical register:
// valid, zero, special, empty) from FXSAVE's abridged one (a bit per
// register: empty or not) and the registers' values, as FSAVE would
// store it.
func fullTag(xs []byte) uint16 {
	abridged := xs[xsFTW]
	top := int(binary.LittleEndian.Uint16(xs[xsFSW:])>>11) & 7
	var tag uint16
	for phys := range 8 {
		t := uint16(3) // empty
		if abridged&(1<<phys) != 0 {
			st := (phys - top + 8) & 7
			t = x87Class(xs[xsST+16*st:][:10])
		}
		tag |= t << (2 * phys)
	}
	return tag
}

// x87Class classes an 80-bit value as the tag word does: 0 valid, 1
// zero, 2 special (NaN, infinity, denormal, unnormal).
func x87Class(v []byte) uint16 {
	mantissa := binary.LittleEndian.Uint64(v)
	exp := binary.LittleEndian.Uint16(v[8:]) & 0x7fff
	integer := mantissa>>63 != 0
	switch {
	case exp == 0x7fff:
		return 2
	case exp == 0 && mantissa == 0:
		return 1
	case exp == 0 || !integer:
		return 2
	}
	return 0
}

// newDescription describes regs (qXfer:features:read:target.xml),
// numbered in their order.
func newDescription(regs []register) description {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<osabi>GNU/Linux</osabi>
`)
	feature := ""
	for i, r := range regs {
		if r.feature != feature {
			if feature != "" {
				b.WriteString("</feature>\n")
			}
			feature = r.feature
			fmt.Fprintf(&b, "<feature name=%q>\n", feature)
			b.WriteString(featureTypes[feature])
		}
		fmt.Fprintf(&b, "<reg name=%q bitsize=\"%d\" type=%q regnum=\"%d\"", r.name, r.bits, r.typ, i)
		if r.group != "" {
			fmt.Fprintf(&b, " group=%q", r.group)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</feature>\n</target>\n")
	return description{regs: regs, xml: b.String()}
}

// featureTypes are the types a feature's registers use that gdb does not
// predefine: the flag bits of EFLAGS and MXCSR, and the views of an XMM
// register.
var featureTypes = map[string]string{
	featCore:   flagsType("i386_eflags", "CF:0 :1 PF:2 AF:4 ZF:6 SF:7 TF:8 IF:9 DF:10 OF:11 NT:14 RF:16 VM:17 AC:18 VIF:19 VIP:20 ID:21"),
	featSSE:    vec128Types + flagsType("i386_mxcsr", "IE:0 DE:1 ZE:2 OE:3 UE:4 PE:5 DAZ:6 IM:7 DM:8 ZM:9 OM:10 UM:11 PM:12 FZ:15"),
	featAVX512: vec128Types + `<vector id="v2ui128" type="uint128" count="2"/>` + "\n",
}

// vec128Types are the views of an XMM register (types are a feature's
// own: each feature with XMM registers has them).
const vec128Types = `<vector id="v8bf16" type="bfloat16" count="8"/>
<vector id="v8h" type="ieee_half" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
<field name="v8_bfloat16" type="v8bf16"/><field name="v8_half" type="v8h"/>
<field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
<field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
<field name="uint128" type="uint128"/>
</union>
`

// flagsType describes a 32-bit flags register from "NAME:BIT ..." (an
// empty name for a reserved bit gdb shows nothing for).
func flagsType(id, bits string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<flags id=%q size=\"4\">\n", id)
	for _, f := range strings.Fields(bits) {
		name, bit, _ := strings.Cut(f, ":")
		fmt.Fprintf(&b, "<field name=%q start=\"%s\" end=\"%s\"/>\n", name, bit, bit)
	}
	b.WriteString("</flags>\n")
	return b.String()
}
