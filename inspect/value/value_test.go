package value

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
)

// mem is a sparse fake memory; onRead, if set, runs before every read.
type mem struct {
	b      map[uint64]byte
	onRead func()
}

func (m *mem) ReadMemory(buf []byte, addr uint64) (int, error) {
	if m.onRead != nil {
		m.onRead()
	}
	for i := range buf {
		c, ok := m.b[addr+uint64(i)]
		if !ok {
			return i, fmt.Errorf("%#x unmapped", addr+uint64(i))
		}
		buf[i] = c
	}
	return len(buf), nil
}

func (m *mem) put(addr uint64, b []byte) {
	for i, c := range b {
		m.b[addr+uint64(i)] = c
	}
}

func (m *mem) u64(addr, v uint64) { m.put(addr, binary.LittleEndian.AppendUint64(nil, v)) }

// Types: 1 uint64, 2 int32, 3 string, 4 rec{Seq uint64; N int32; Name string; Next *rec; Kids []*rec},
// 5 *rec, 6 []*rec.
func testLayout() *layout.Layout {
	return &layout.Layout{Types: []*layout.Type{
		{Name: "unknown"},
		{Name: "uint64", Kind: layout.Uint, Size: 8},
		{Name: "int32", Kind: layout.Int, Size: 4},
		{Name: "string", Kind: layout.String, Size: 16},
		{Name: "rec", Kind: layout.Struct, Size: 64, Fields: []layout.Field{
			{Name: "Seq", Off: 0, Type: 1}, {Name: "N", Off: 8, Type: 2}, {Name: "Name", Off: 16, Type: 3},
			{Name: "Next", Off: 32, Type: 5}, {Name: "Kids", Off: 40, Type: 6}}},
		{Name: "*rec", Kind: layout.Ptr, Size: 8, Elem: 4},
		{Name: "[]*rec", Kind: layout.Slice, Size: 24, Elem: 5},
	}, Vars: map[string]layout.Var{"pkg/x.Root": {Addr: 0x1000, Type: 5}}}
}

// world lays out Root -> rec A{N: -7, Name: "alpha", Kids: [B]}, B{N: 2}.
func world() *mem {
	m := &mem{b: map[uint64]byte{}}
	m.u64(0x1000, 0x2000) // Root
	a, b := uint64(0x2000), uint64(0x3000)
	m.put(a, make([]byte, 64))
	m.put(a+8, binary.LittleEndian.AppendUint32(nil, uint32(0xfffffff9)))
	m.u64(a+16, 0x5000)
	m.u64(a+24, 5)
	m.put(0x5000, []byte("alpha"))
	m.u64(a+40, 0x6000)
	m.u64(a+48, 1)
	m.u64(0x6000, b)
	m.put(b, make([]byte, 64))
	m.put(b+8, []byte{2, 0, 0, 0})
	return m
}

func TestDecode(t *testing.T) {
	r := &Reader{Mem: world(), Layout: testLayout(), Tries: 1}
	root := r.Var("x.Root")
	a := root.Deref().Load()
	if n, s := a.Field("N").Int(), a.Field("Name").Str(); n != -7 || s != "alpha" {
		t.Errorf("N %d Name %q", n, s)
	}
	if !a.Field("Next").Nil() {
		t.Error("nil Next not nil")
	}
	kids := a.Field("Kids").Elems()
	if len(kids) != 1 || kids[0].Field("N").Int() != 2 {
		t.Errorf("kids %v", kids)
	}
	if k, s := a.Field("Kids").Data(), a.Field("Name").Data(); k != 0x6000 || s != 0x5000 {
		t.Errorf("Kids at %#x, Name at %#x", k, s)
	}
	if err := r.Take(); err != nil {
		t.Fatal(err)
	}
	a.Field("N").Data()
	if err := r.Take(); err == nil {
		t.Error("data of an integer without error")
	}
	a.Field("Next").Field("N").Int()
	if err := r.Take(); err == nil {
		t.Error("field through a nil pointer read without error")
	}
	a.Field("Bogus")
	if err := r.Take(); err == nil {
		t.Error("missing field without error")
	}
	r.Var("x.Nope")
	if err := r.Take(); err == nil {
		t.Error("missing variable without error")
	}
}

func TestImplausibleLength(t *testing.T) {
	m := world()
	m.u64(0x2000+48, 1<<40) // Kids.len
	r := &Reader{Mem: m, Layout: testLayout(), Tries: 1}
	if kids := r.Var("x.Root").Field("Kids").Elems(); kids != nil || r.Take() == nil {
		t.Error("a slice of 2^40 elements was read")
	}
	// Where it is can be said all the same: the partition's direct map is
	// a slice of gigabytes.
	if p := r.Var("x.Root").Field("Kids").Data(); p != 0x6000 || r.Take() != nil {
		t.Errorf("data of a long slice: %#x", p)
	}
}

func TestStable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writer  func(m *mem) func() // returns the onRead hook
		tries   int
		wantErr error
	}{
		{"quiet", func(m *mem) func() { return nil }, 3, nil},
		{"stopped writer", func(m *mem) func() { m.u64(0x2000, 7); return nil }, 3, ErrChanging},
		{"busy writer", func(m *mem) func() {
			seq := uint64(0)
			return func() { seq += 2; m.u64(0x2000, seq) }
		}, 4, ErrChanging},
		{"settles", func(m *mem) func() {
			n := 0
			return func() {
				if n++; n < 4 {
					m.u64(0x2000, uint64(2*n))
				}
			}
		}, 8, nil},
	} {
		// The whole record, some fields (Gather), and a batch of one
		// (StableAll), from a memory that gathers and from one that
		// does not.
		for _, mode := range []string{"whole", "fields", "all", "fields-gatherer", "all-gatherer"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				m := world()
				m.onRead = tc.writer(m)
				r := &Reader{Mem: m, Layout: testLayout(), Tries: tc.tries}
				if strings.HasSuffix(mode, "-gatherer") {
					r.Mem = gatherer{m}
				}
				var name string
				var n int64
				read := func(v Value) { name, n = v.Field("Name").Str(), v.Field("N").Int() }
				rec := r.Var("x.Root").Deref()
				var err error
				switch strings.TrimSuffix(mode, "-gatherer") {
				case "whole":
					err = r.Stable(rec, read)
				case "fields":
					err = r.Stable(rec, read, "N", "Name")
				case "all":
					err = r.StableAll([]Value{rec}, func(_ int, v Value) { read(v) }, "N", "Name")[0]
				}
				if !errors.Is(err, tc.wantErr) && err != tc.wantErr {
					t.Fatalf("Stable: %v, want %v", err, tc.wantErr)
				}
				if err == nil && (name != "alpha" || n != -7) {
					t.Errorf("name %q N %d", name, n)
				}
			})
		}
	}
}

// gatherer adds inspect.Gatherer to a mem.
type gatherer struct{ *mem }

func (g gatherer) ReadSpans(spans []inspect.Span) error {
	for _, s := range spans {
		if _, err := g.ReadMemory(s.Buf, s.Addr); err != nil {
			return err
		}
	}
	return nil
}

// TestGather checks that gathered fields, nested ones included, read as
// loaded ones, that other fields still read from memory, and that
// LoadAll loads each value.
func TestGather(t *testing.T) {
	m := world()
	r := &Reader{Mem: gatherer{m}, Layout: testLayout(), Tries: 1}
	a := r.Var("x.Root").Deref().Gather("N", "Kids")
	m.put(0x2000+8, []byte{1, 0, 0, 0}) // after the gather: not seen
	if n := a.Field("N").Int(); n != -7 {
		t.Errorf("gathered N %d, want -7", n)
	}
	if s := a.Field("Name").Str(); s != "alpha" { // not gathered: from memory
		t.Errorf("Name %q", s)
	}
	kids := r.LoadAll(a.Field("Kids").Elems())
	if len(kids) != 1 || kids[0].Deref().Field("N").Int() != 2 {
		t.Errorf("kids %v", kids)
	}
	if err := r.Take(); err != nil {
		t.Fatal(err)
	}
	r.Var("x.Root").Deref().Gather("N.X")
	if err := r.Take(); err == nil {
		t.Error("field of an integer gathered without error")
	}
}

// TestBudget reads lengths each under the limits but nested far past
// any real daemon's state: the reader stops at its budget, with
// ErrBudget, and fails every read after.
func TestBudget(t *testing.T) {
	img := seedImage()
	binary.LittleEndian.PutUint64(img[0x40+48:], MaxElems/2) // Kids.len, over garbage repeated everywhere
	for _, tc := range []struct {
		name     string
		budget   int64
		exhausts bool
	}{
		{"small budget", 1 << 20, true},
		{"enough", 1 << 30, false}, // other errors: the garbage has nil pointers
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &garbage{data: img[:0x60], base: fuzzBase, everywhere: true}
			r := &Reader{Mem: g, Layout: fuzzLayout(), Tries: 1, Budget: tc.budget}
			kids := r.Var("x.Root").Deref().Field("Kids").Elems()
			for _, k := range kids[:min(len(kids), 1000)] {
				k.Deref().Field("Name").Str()
			}
			if err := r.Take(); errors.Is(err, ErrBudget) != tc.exhausts || g.asked > tc.budget || r.exhausted() != tc.exhausts {
				t.Fatalf("error %v, asked %d bytes, exhausted %v", err, g.asked, r.exhausted())
			}
			if !tc.exhausts {
				return
			}
			asked := g.asked
			if r.Var("x.Root").Deref().Field("N").Int(); !errors.Is(r.Take(), ErrBudget) || g.asked != asked {
				t.Error("a read after the budget was spent did not fail at once")
			}
		})
	}
}

// TestWait reads a thousand records whose writers all stopped inside
// them: each is marked changing, within the reader's Wait, not after a
// wait of its own.
func TestWait(t *testing.T) {
	img := seedImage()
	img[0x100] = 3 // b.Seq: odd
	r := &Reader{Mem: &garbage{data: img, base: fuzzBase}, Layout: fuzzLayout(), Tries: 8, Wait: 5 * time.Millisecond}
	var recs []Value
	for range 1000 {
		recs = append(recs, Value{r: r, T: r.Layout.Types[tNode], Addr: fuzzBase + 0x100})
	}
	start := time.Now()
	errs := r.StableAll(recs, func(int, Value) {}, "N")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v", d)
	}
	for i, err := range errs {
		if !errors.Is(err, ErrChanging) {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}
