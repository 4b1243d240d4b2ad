package ptrace

import (
	"bytes"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/platform"
)

// The trampoline's constants name the instructions the image holds.
func TestSwitchCodeOffsets(t *testing.T) {
	img := stubImage()
	if len(img) != stubImageSize {
		t.Fatalf("image of %d bytes, want %d", len(img), stubImageSize)
	}
	for _, tc := range []struct {
		name string
		off  int
		want []byte
	}{
		{"xsave64", stubXsaveOff, []byte{0x48, 0x0f, 0xae, 0x25}},
		{"xrstor64", stubXrstorOff, []byte{0x48, 0x0f, 0xae, 0x2d}},
		{"load entry", stubLoadOff, []byte{0x8b, 0x05}},
		{"jmp", stubSwitchEnd - 6, []byte{0xff, 0x25}},
	} {
		if got := img[tc.off : tc.off+len(tc.want)]; !bytes.Equal(got, tc.want) {
			t.Errorf("%s at %#x: % x, want % x", tc.name, tc.off, got, tc.want)
		}
	}
}

// leave tells from where the stub stopped what the trampoline did.
func TestSwitchLeave(t *testing.T) {
	app := unix.PtraceRegs{Rip: 0x401000, Rax: 1, Rdx: 2, Rbx: 3}
	at := func(off uint64) unix.PtraceRegs {
		r := app
		r.Rip, r.Rax, r.Rdx = ikc.StubBase+off, 0xe7, 0
		return r
	}
	kick := platform.Stop{Kind: platform.StopSignal, Signal: syscall.SIGSTOP}
	syscallStop := platform.Stop{Kind: platform.StopSyscall}
	for _, tc := range []struct {
		name             string
		stopped          unix.PtraceRegs
		st               platform.Stop
		saved, loadAfter bool
		wantErr          bool
	}{
		{"the thread ran", unix.PtraceRegs{Rip: 0x401002, Rbx: 9}, syscallStop, true, false, false},
		{"kicked at entry", at(stubSaveOff), kick, false, true, false},
		{"kicked at xsave", at(stubXsaveOff), kick, false, true, false},
		{"kicked after xsave", at(stubLoadOff), kick, true, true, false},
		{"kicked at xrstor", at(stubXrstorOff), kick, true, true, false},
		{"kicked after xrstor", at(stubXrstorOff + 8), kick, true, false, false},
		{"xrstor faulted", at(stubXrstorOff), platform.Stop{Kind: platform.StopSignal, Signal: syscall.SIGSEGV}, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fpuSwitch{mem: make([]byte, fpuAreaSize), size: 16}
			copy(f.slot(fpuOutOff), "outgoing state!!")
			var saved []byte
			f.save, f.load = &saved, true
			regs, orig := tc.stopped, app
			err := f.leave(&regs, &orig, tc.st)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if got := saved != nil; got != tc.saved {
				t.Errorf("saved %v, want %v", got, tc.saved)
			}
			if tc.saved && string(saved) != "outgoing state!!" {
				t.Errorf("saved %q", saved)
			}
			if f.load != tc.loadAfter {
				t.Errorf("load pending %v, want %v", f.load, tc.loadAfter)
			}
			want := tc.stopped
			if inside := tc.stopped.Rip >= ikc.StubBase; inside {
				want = app
			}
			if regs != want {
				t.Errorf("registers %+v, want %+v", regs, want)
			}
		})
	}
}
