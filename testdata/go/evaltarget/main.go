// Command evaltarget is the process the inspect/eval tests read from
// outside: it builds a known global state, prints "ready", and runs until
// killed, changing nothing but its Beat counter.
package main

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

type Kind uint8

const (
	KindIdle Kind = iota
	KindBusy
)

type Thread struct {
	TID   int32
	Name  string
	Kind  Kind
	Flags uint64
}

type CPU struct {
	ID      int
	Current *Thread
	Ticks   [4]uint32
}

type Allocator struct {
	Free, Total uint64
	Ratio       float64
}

type Kernel struct {
	Name    string
	CPUs    []CPU
	Threads map[int32]*Thread
	Alloc   *Allocator
	Kmsg    []byte
	Nil     *Thread
	Bad     *Thread
	Tags    []string
	Any     any
}

// Samples has one field of each kind the tests format.
type Samples struct {
	B      bool
	I8     int8
	U64    uint64
	F32    float32
	NaN    float64
	Inf    float64
	C      complex128
	Fn     func()
	Ch     chan int
	Arr    [3]int16
	Empty  []int
	NilMap map[string]int
	Long   string
	UP     uintptr
}

// Instance mirrors gomck's kernel.Instance: everything the tests read
// hangs from one package variable.
var Instance *Kernel

var Counter int64 = -42

var Sample Samples

// Beat counts milliseconds while the target runs: the tests see it move.
var Beat atomic.Uint64

func hook() {}

func buildSamples() Samples {
	ch := make(chan int, 4)
	ch <- 9
	return Samples{
		B: true, I8: -8, U64: 1<<64 - 1, F32: 1.25,
		NaN: math.NaN(), Inf: math.Inf(-1), C: complex(1, -2),
		Fn: hook, Ch: ch, Arr: [3]int16{-1, 0, 1},
		Long: strings.Repeat("0123456789", 20), UP: 0x1234,
	}
}

func build() *Kernel {
	a := &Thread{TID: 101, Name: "init", Kind: KindBusy, Flags: 0xdead}
	b := &Thread{TID: 202, Name: "worker", Kind: KindIdle, Flags: 7}
	return &Kernel{
		Name: "mcos0",
		CPUs: []CPU{
			{ID: 0, Current: nil, Ticks: [4]uint32{1, 2, 3, 4}},
			{ID: 1, Current: a, Ticks: [4]uint32{5, 6, 7, 8}},
			{ID: 2, Current: b},
		},
		Threads: map[int32]*Thread{101: a, 202: b},
		Alloc:   &Allocator{Free: 1 << 20, Total: 1 << 29, Ratio: 0.5},
		Kmsg:    []byte("boot ok\n"),
		// An address nothing maps: the tests expect "(unreadable ...)".
		Bad:  (*Thread)(badPointer()),
		Tags: []string{"lwk", "go"},
		Any:  a,
	}
}

func main() {
	Instance = build()
	Sample = buildSamples()
	go func() {
		for {
			time.Sleep(time.Millisecond)
			Beat.Add(1)
		}
	}()
	fmt.Println("ready")
	for {
		time.Sleep(time.Hour)
		Counter++ // keeps Counter and Instance referenced
		_, _ = Instance, Sample
	}
}
