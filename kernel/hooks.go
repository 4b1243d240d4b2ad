package kernel

import (
	"fmt"
	"runtime/debug"

	"github.com/gomck/gomck/kernel/task"
)

// Hooks are where the tools above the kernel (app cores, kernel dumps,
// counters, the dashboard) join it: cmd/mckernel gives them to Boot, so
// that kernel/ never imports those packages. Any may be nil. They run on
// the kernel's own paths, so each says what it may do there.
type Hooks struct {
	// Switch runs on LWK CPU cpu, on the CPU's own thread, each time the
	// thread it runs changes (from or to nil: idle). It is on the path of
	// every context switch: it must not block, allocate or make system
	// calls beyond what a counter switch needs.
	Switch func(cpu int, from, to *task.Thread)
	// ThreadExit runs as thread t ends, alone or with its process, on the
	// CPU ending it, while the thread's record is still whole.
	ThreadExit func(t *task.Thread)
	// FatalSignal runs once when process p is about to die of signal sig
	// (core: its default action dumps core), on the CPU ending it, before
	// any of its threads is dropped or its memory released. t is the
	// thread on whose CPU the death was decided (it faulted, took the
	// signal, or had its call cut short by it), or nil when no thread of
	// p was running (a kill of a sleeping process, shutdown). Threads of p on
	// other CPUs may still be running: a core writer stops them first.
	FatalSignal func(p *task.Process, t *task.Thread, sig int, core bool)
	// Panic runs when instance k panics (a Go panic on an LWK CPU), with
	// its reason and the panicking goroutine's stack, before the daemon
	// dies of it: the state at the panic is still in memory. It returns
	// the dump it took, if any, for the last heartbeat to name.
	Panic func(k *OS, reason string, stack []byte) (dump string)
}

// switched calls the Switch hook.
func (h *Hooks) switched(cpu int, from, to *task.Thread) {
	if h.Switch != nil {
		h.Switch(cpu, from, to)
	}
}

// threadExited calls the ThreadExit hook.
func (h *Hooks) threadExited(t *task.Thread) {
	if h.ThreadExit != nil {
		h.ThreadExit(t)
	}
}

// fatal calls the FatalSignal hook.
func (h *Hooks) fatal(p *task.Process, t *task.Thread, sig int) {
	if h.FatalSignal != nil {
		h.FatalSignal(p, t, sig, dumpsCore(sig))
	}
}

// background runs f in a goroutine of its own whose panic, if any, is
// the kernel's, as one on an LWK CPU: where says whose it is.
func (k *OS) background(where string, f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				k.panicked(where, r)
			}
		}()
		f()
	}()
}

// panicked records a panic in the kernel (on an LWK CPU, or in one of its
// goroutines: where) in kmsg and the instance state, gives it to the
// Panic hook, and panics on: a kernel that failed is in no state to go
// on, but its state at the panic is kept for whoever looks. A second
// panic meanwhile waits for the first to end the daemon.
func (k *OS) panicked(where string, r any) {
	if !k.panicking.CompareAndSwap(false, true) {
		select {}
	}
	reason := fmt.Sprintf("%s: %v", where, r)
	stack := debug.Stack()
	k.setState("PANIC")
	k.Kmsg.Printf("panic: %s", reason)
	var dump string
	if k.Hooks.Panic != nil {
		dump = k.Hooks.Panic(k, reason, stack)
	}
	k.mu.Lock()
	k.Watchdog.Reason, k.Watchdog.Dump = reason, dump
	k.mu.Unlock()
	if k.unwatch != nil {
		k.beat(nil)
	}
	panic(r)
}
