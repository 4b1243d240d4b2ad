// Command target is a binary for the layout tests: it prints, as JSON,
// what its types' layouts and its variable's address really are, for the
// test to compare with what Load reads from its DWARF.
package main

import (
	"encoding/json"
	"os"
	"unsafe"
)

type state struct {
	Seq   uint64
	Name  string
	Items []*item
	Table [3]int16
	Next  *state
	M     map[int]int
}

type item struct {
	A uint8
	B int64
}

var root = &state{Name: "root"}

func main() {
	var s state
	json.NewEncoder(os.Stdout).Encode(map[string]uint64{
		"root": uint64(uintptr(unsafe.Pointer(&root))), "size": uint64(unsafe.Sizeof(s)),
		"Seq": uint64(unsafe.Offsetof(s.Seq)), "Name": uint64(unsafe.Offsetof(s.Name)),
		"Items": uint64(unsafe.Offsetof(s.Items)), "Table": uint64(unsafe.Offsetof(s.Table)),
		"Next": uint64(unsafe.Offsetof(s.Next)), "M": uint64(unsafe.Offsetof(s.M)),
		"item.B": uint64(unsafe.Offsetof(item{}.B)),
	})
}
