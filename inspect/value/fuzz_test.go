package value

import (
	"encoding/binary"
	"fmt"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
)

// garbage is a memory whose bytes come from the fuzzer: data at base, and
// with everywhere, repeated over the whole address space, as a corrupt
// daemon whose every pointer and length lands in readable garbage.
type garbage struct {
	data       []byte
	base       uint64
	everywhere bool
	asked      int64 // bytes asked for, read or not
}

func (g *garbage) ReadMemory(buf []byte, addr uint64) (int, error) {
	g.asked += int64(len(buf))
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		var src []byte
		switch off := a - g.base; {
		case off < uint64(len(g.data)):
			src = g.data[off:]
		case g.everywhere && len(g.data) > 0:
			src = g.data[a%uint64(len(g.data)):]
		default:
			return n, fmt.Errorf("%#x unmapped", a)
		}
		n += copy(buf[n:], src)
	}
	return n, nil
}

// gatheringGarbage adds inspect.Gatherer, for the gathered reads' path.
type gatheringGarbage struct{ *garbage }

func (g gatheringGarbage) ReadSpans(spans []inspect.Span) error {
	for _, s := range spans {
		if _, err := g.ReadMemory(s.Buf, s.Addr); err != nil {
			return err
		}
	}
	return nil
}

// The fuzzed layout: a node with a field of every kind the reader knows,
// a pointer to itself and a slice of pointers to others, as the kernel's
// records have.
const (
	tUint64 = iota + 1
	tInt32
	tString
	tNode
	tNodePtr
	tNodePtrs
	tItem
	tItems
	tUint8
	tBytes
	tTable
	tUint16
	tFloat64
	tFloat32
	tAtomic
	tUint32
	tMap
	tIface
	tFunc
	tChan
	tBigPtr
	tBig
	tEmpty
	tBool
	tInt16
)

func fuzzLayout() *layout.Layout {
	return &layout.Layout{Types: []*layout.Type{
		{Name: "unknown"},
		tUint64:   {Name: "uint64", Kind: layout.Uint, Size: 8},
		tInt32:    {Name: "int32", Kind: layout.Int, Size: 4},
		tString:   {Name: "string", Kind: layout.String, Size: 16},
		tNode:     {Name: "node", Kind: layout.Struct, Size: 192, Fields: nodeFields},
		tNodePtr:  {Name: "*node", Kind: layout.Ptr, Size: 8, Elem: tNode},
		tNodePtrs: {Name: "[]*node", Kind: layout.Slice, Size: 24, Elem: tNodePtr},
		tItem: {Name: "item", Kind: layout.Struct, Size: 32, Fields: []layout.Field{
			{Name: "A", Off: 0, Type: tUint8}, {Name: "B", Off: 8, Type: tUint64}, {Name: "S", Off: 16, Type: tString}}},
		tItems:   {Name: "[]item", Kind: layout.Slice, Size: 24, Elem: tItem},
		tUint8:   {Name: "uint8", Kind: layout.Uint, Size: 1},
		tBytes:   {Name: "[]uint8", Kind: layout.Slice, Size: 24, Elem: tUint8},
		tTable:   {Name: "[4]uint16", Kind: layout.Array, Size: 8, Len: 4, Elem: tUint16},
		tUint16:  {Name: "uint16", Kind: layout.Uint, Size: 2},
		tFloat64: {Name: "float64", Kind: layout.Float, Size: 8},
		tFloat32: {Name: "float32", Kind: layout.Float, Size: 4},
		tAtomic:  {Name: "sync/atomic.Uint32", Kind: layout.Struct, Size: 4, Fields: []layout.Field{{Name: "v", Type: tUint32}}},
		tUint32:  {Name: "uint32", Kind: layout.Uint, Size: 4},
		tMap:     {Name: "map[int]int", Kind: layout.Map, Size: 8},
		tIface:   {Name: "interface {}", Kind: layout.Interface, Size: 16},
		tFunc:    {Name: "func()", Kind: layout.Func, Size: 8},
		tChan:    {Name: "chan uint64", Kind: layout.Chan, Size: 8, Elem: tUint64},
		tBigPtr:  {Name: "*[1048576]uint64", Kind: layout.Ptr, Size: 8, Elem: tBig},
		tBig:     {Name: "[1048576]uint64", Kind: layout.Array, Size: 8 << 20, Len: 1 << 20, Elem: tUint64},
		tEmpty:   {Name: "struct {}", Kind: layout.Struct},
		tBool:    {Name: "bool", Kind: layout.Bool, Size: 1},
		tInt16:   {Name: "int16", Kind: layout.Int, Size: 2},
	}, Vars: map[string]layout.Var{"pkg/x.Root": {Addr: fuzzBase, Type: tNodePtr}}}
}

var nodeFields = []layout.Field{
	{Name: "Seq", Off: 0, Type: tUint64}, {Name: "N", Off: 8, Type: tInt32}, {Name: "Flag", Off: 12, Type: tBool},
	{Name: "Small", Off: 13, Type: tUint8}, {Name: "Half", Off: 14, Type: tInt16}, {Name: "Name", Off: 16, Type: tString},
	{Name: "Next", Off: 32, Type: tNodePtr}, {Name: "Kids", Off: 40, Type: tNodePtrs}, {Name: "Items", Off: 64, Type: tItems},
	{Name: "Bytes", Off: 88, Type: tBytes}, {Name: "Table", Off: 112, Type: tTable}, {Name: "F", Off: 120, Type: tFloat64},
	{Name: "F32", Off: 128, Type: tFloat32}, {Name: "Count", Off: 132, Type: tAtomic}, {Name: "M", Off: 136, Type: tMap},
	{Name: "Any", Off: 144, Type: tIface}, {Name: "Fn", Off: 160, Type: tFunc}, {Name: "Ch", Off: 168, Type: tChan},
	{Name: "Big", Off: 176, Type: tBigPtr}, {Name: "Empty", Off: 184, Type: tEmpty},
}

// fuzzBase is where the fuzzer's bytes are: Root is their first word.
const fuzzBase = 0x10000

// seedImage lays out Root -> a{Name: "alpha", Next: a, Kids: [b, a],
// Items: [{1, 2, "it"}], Bytes: "raw"}, b{N: 2}: a pointer loop, a
// record reached twice, and every kind with a plausible value.
func seedImage() []byte {
	img := make([]byte, 0x400)
	le := binary.LittleEndian
	put := func(off int, v uint64) { le.PutUint64(img[off:], v) }
	a, b, strs, kids, items := 0x40, 0x100, 0x200, 0x240, 0x260
	put(0, fuzzBase+uint64(a))
	put(a+0, 2)                                                    // Seq
	le.PutUint32(img[a+8:], 0xfffffff9)                            // N
	img[a+12], img[a+13] = 1, 200                                  // Flag, Small
	put(a+16, fuzzBase+uint64(strs))                               // Name
	put(a+24, 5)                                                   //
	put(a+32, fuzzBase+uint64(a))                                  // Next: itself
	put(a+40, fuzzBase+uint64(kids))                               // Kids
	put(a+48, 2)                                                   //
	put(a+56, 2)                                                   //
	put(a+64, fuzzBase+uint64(items))                              // Items
	put(a+72, 1)                                                   //
	put(a+88, fuzzBase+uint64(strs+8))                             // Bytes
	put(a+96, 3)                                                   //
	put(a+112, 0x0004000300020001)                                 // Table
	put(a+120, 0x3ff8000000000000)                                 // F: 1.5
	le.PutUint32(img[a+128:], 0x40200000)                          // F32: 2.5
	le.PutUint32(img[a+132:], 7)                                   // Count
	put(a+136, fuzzBase+0x300)                                     // M
	put(a+144, fuzzBase+0x308)                                     // Any
	put(a+152, fuzzBase+uint64(b))                                 //
	put(b+0, 4)                                                    // b.Seq
	le.PutUint32(img[b+8:], 2)                                     // b.N
	copy(img[strs:], "alpha\x00\x00\x00raw\x00\x00\x00\x00\x00it") // Name, Bytes, Items[0].S
	put(kids, fuzzBase+uint64(b))
	put(kids+8, fuzzBase+uint64(a))
	img[items] = 1
	put(items+8, 2)
	put(items+16, fuzzBase+uint64(strs+16))
	put(items+24, 2)
	return img
}

// walk reads v and what it refers to, through every accessor, as far as
// depth pointers and the first few elements of each slice: a decoder
// bounds its own walk; the reader must bound each step.
func walk(v Value, depth int) {
	switch v.T.Kind {
	case layout.Struct:
		v.Uint() // the v of an atomic; an error for others
		for _, f := range v.T.Fields {
			walk(v.Field(f.Name), depth)
		}
	case layout.Ptr:
		if !v.Nil() && depth > 0 {
			walk(v.Deref(), depth-1)
		}
	case layout.Slice, layout.Array:
		if v.T.Kind == layout.Slice {
			v.Str()
		}
		if depth == 0 {
			return
		}
		for i, e := range v.Elems() {
			if i == 3 {
				break
			}
			walk(e, depth-1)
		}
		v.Index(v.Len() - 1).Raw()
	case layout.String:
		v.Str()
	case layout.Int:
		v.Int()
	case layout.Float:
		v.Float()
	case layout.Bool:
		v.Bool()
	default:
		v.Uint()
		v.Raw()
	}
}

// heapAllocs is the bytes allocated so far by this process.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzDecode reads values of every kind from fuzzed memory: the reader
// returns values or errors, never panics, and however the lengths and
// pointers nest, reads and allocates within its budget.
func FuzzDecode(f *testing.F) {
	img := seedImage()
	for _, everywhere := range []bool{false, true} {
		f.Add(img, everywhere, false, uint8(2))
		f.Add(img, everywhere, true, uint8(8))
		f.Add(img[:0x60], everywhere, false, uint8(1))
	}
	huge := append([]byte(nil), img...)
	binary.LittleEndian.PutUint64(huge[0x40+48:], 1<<60) // Kids.len
	binary.LittleEndian.PutUint64(huge[0x40+24:], 1<<19) // Name.len
	f.Add(huge, true, false, uint8(1))
	const budget = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte, everywhere, gather bool, tries uint8) {
		g := &garbage{data: data, base: fuzzBase, everywhere: everywhere}
		r := &Reader{Mem: g, Layout: fuzzLayout(), Tries: int(tries % 4), Budget: budget, Wait: time.Millisecond}
		if gather {
			r.Mem = gatheringGarbage{g}
		}
		allocs := heapAllocs()
		root := r.Var("x.Root")
		walk(root, 3)
		r.Take()
		rec := root.Deref()
		r.Stable(rec, func(v Value) { walk(v, 2) })
		r.Stable(rec, func(v Value) { walk(v, 1) }, "N", "Name", "Kids", "Count")
		kids := rec.Field("Kids").Elems()
		recs := make([]Value, len(kids))
		for i, k := range kids {
			recs[i] = k.Deref()
		}
		r.StableAll(recs, func(_ int, v Value) { walk(v, 1) }, "Next", "Items")
		for _, v := range r.LoadAll(recs) {
			walk(v, 1)
		}
		// Reads are charged before they are made. Elements are charged
		// what Each allocates for them, but each costs its decoder a few
		// small allocations more, even once the budget is spent.
		if g.asked > budget {
			t.Errorf("asked for %d bytes, over the budget of %d", g.asked, budget)
		}
		if n := heapAllocs() - allocs; n > 4*budget {
			t.Errorf("allocated %d bytes, over 4 times the budget of %d", n, budget)
		}
	})
}
