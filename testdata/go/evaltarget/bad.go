package main

import "unsafe"

// badPointer returns a pointer into the hole below the first mapped page,
// which no Go program maps, built without the garbage collector seeing a
// bad pointer it would complain about: the field is never dereferenced.
func badPointer() unsafe.Pointer {
	addr := uintptr(0x10)
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}
