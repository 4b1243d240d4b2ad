package lwk

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/inspect/layout"
)

// TestKernelFields resolves every field inspect/ reads against the
// daemon's own types: a field renamed or moved in kernel/ fails here by
// its type and name.
func TestKernelFields(t *testing.T) {
	l := kernelLayout(t)
	for typ, fields := range kernelFields {
		tp, ok := l.Lookup(module + typ)
		if !ok || tp.Kind != layout.Struct {
			t.Errorf("%s: no such struct type in cmd/mckernel's DWARF", typ)
			continue
		}
		for _, f := range fields {
			if _, ok := tp.Field(f); !ok {
				t.Errorf("%s.%s: no such field in cmd/mckernel's DWARF", typ, f)
			}
		}
	}
}

// TestFieldsDeclared reads a snapshot with every field of the kernel's
// types that kernelFields does not declare hidden: a read of an
// undeclared field then fails (or, for the fields older daemons lack,
// goes missing), and the snapshot differs from the one read with the
// whole layout.
func TestFieldsDeclared(t *testing.T) {
	l := kernelLayout(t)
	s := seedImage(l)
	complete(s)
	what := What{VMAs: true, IKC: true, Kmsg: true, Regs: true, FP: true, Auxv: true, Pending: true}
	whole, err := Read(target(l, &garbage{data: s.img.b}), l, what)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.Errors) > 0 || whole.Kmsg == "" || len(whole.Procs) != 1 || whole.Procs[0].IKC == nil || len(whole.Procs[0].IKC.Queued) != 1 {
		t.Fatalf("the completed seed reads as %+v, errors %q", whole, whole.Errors)
	}
	declared, err := Read(target(l, &garbage{data: s.img.b}), declaredOnly(l), what)
	if err != nil {
		t.Fatalf("read with the declared fields only: %v", err)
	}
	for _, e := range declared.Errors {
		t.Errorf("read with the declared fields only: %s", e)
	}
	if !reflect.DeepEqual(whole, declared) {
		t.Errorf("read with the declared fields only:\n%+v\nwith all:\n%+v", declared, whole)
	}
}

// complete adds to a seed what the fuzzer's seed leaves out to stay
// small: the threads' Stats.RunNs (past their records' first bytes), a queued
// IKC request and a readable kmsg ring.
func complete(s seed) {
	m := s.img
	const Thread, Chan, Slot, Ring = "kernel/task.Thread", "delegator/ikc.Channel", "delegator/ikc.Slot", "kernel/kmsg.Ring"
	th, _ := m.l.Lookup(module + Thread)
	m.b = append(m.b, make([]byte, th.Size)...) // the last thread's tail
	for i, t := range s.threads {
		m.set(t, Thread, "Stats.RunNs", uint64(1000*(i+1)))
	}
	slot, _ := m.l.Lookup(module + Slot)
	slots := m.alloc(ikc.SlotCount * slot.Size)
	first := slots + uint64(slot.Size) // slot 1
	m.set(first, Slot, "State", ikc.SlotTaken)
	m.set(first, Slot, "Nr", 0)
	m.set(first, Slot, "TID", 101)
	m.set(first, Slot, "Seq", 9)
	m.set(s.ch, Chan, "slots", slots)
	ring := m.rec(Ring)
	m.set(ring, Ring, "Head", 6)
	off, _ := m.at(ring, Ring, "Buf")
	copy(m.b[off:], "hello\n")
	m.set(s.os, "kernel.OS", "Kmsg", ring)
}

// declaredOnly is l with the kernel's struct types cut down to the fields
// kernelFields declares.
func declaredOnly(l *layout.Layout) *layout.Layout {
	out := *l
	out.Types = slices.Clone(l.Types)
	for i, t := range out.Types {
		name, ok := strings.CutPrefix(t.Name, module)
		if !ok || t.Kind != layout.Struct {
			continue
		}
		cut := *t
		cut.Fields = slices.DeleteFunc(slices.Clone(t.Fields), func(f layout.Field) bool { return !slices.Contains(kernelFields[name], f.Name) })
		out.Types[i] = &cut
	}
	return &out
}
