package dumpfile

import (
	"reflect"

	"golang.org/x/sys/unix"
)

// The kernel's records name a thread's registers by the fields of
// unix.PtraceRegs (inspect/lwk's Thread.Regs, read through DWARF); a dump
// records them as that struct.

// SetRegs sets regs from registers named as the kernel's record names
// them.
func SetRegs(regs *unix.PtraceRegs, named map[string]uint64) {
	v := reflect.ValueOf(regs).Elem()
	for i := range v.NumField() {
		if x, ok := named[v.Type().Field(i).Name]; ok {
			v.Field(i).SetUint(x)
		}
	}
}

// RegsByName is regs named as the kernel's record names them.
func RegsByName(regs unix.PtraceRegs) map[string]uint64 {
	v := reflect.ValueOf(regs)
	named := make(map[string]uint64, v.NumField())
	for i := range v.NumField() {
		named[v.Type().Field(i).Name] = v.Field(i).Uint()
	}
	return named
}
