package syscalls

import (
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/gomck/gomck/kernel/syscalls/sysno"
)

// handlerFile returns the base name of the file that defines h.
func handlerFile(h handler) string {
	fn := runtime.FuncForPC(reflect.ValueOf(h).Pointer())
	file, _ := fn.FileLine(fn.Entry())
	return filepath.Base(file)
}

func isOffload(h handler) bool {
	return reflect.ValueOf(h).Pointer() == reflect.ValueOf(offload).Pointer()
}

// TestRoutesFollowTable checks the dispatch array against sysno's table:
// every local and prepared call has a handler in its family's file, the
// others are offloaded or refused as listed.
func TestRoutesFollowTable(t *testing.T) {
	for nr := range uint64(len(routes)) {
		e, listed := sysno.Lookup(nr)
		rt := routes[nr]
		if rt.kind != e.Kind {
			t.Errorf("%d %s: routed as %v, listed as %v", nr, e.Name, rt.kind, e.Kind)
		}
		switch {
		case !listed, e.Kind == sysno.Offloaded:
			if !isOffload(rt.serve) {
				t.Errorf("%d %q: listed as offloaded, served by %s", nr, e.Name, handlerFile(rt.serve))
			}
		case e.Kind == sysno.Refused:
			if got := rt.serve(nil); got != -int64(e.Errno) {
				t.Errorf("%d %s: refused with %d, listed with %d", nr, e.Name, got, -int64(e.Errno))
			}
		case rt.serve == nil:
			t.Errorf("%d %s: listed as %v in %s.go, no handler registered", nr, e.Name, e.Kind, e.Family)
		case isOffload(rt.serve):
			t.Errorf("%d %s: listed as %v, offloaded as it is", nr, e.Name, e.Kind)
		default:
			if got := handlerFile(rt.serve); got != e.Family+".go" {
				t.Errorf("%d %s: handler in %s, listed in family %q", nr, e.Name, got, e.Family)
			}
		}
	}
}

func TestRegisterRefusesDrift(t *testing.T) {
	tests := []struct {
		name string
		nr   uint64
	}{
		{"offloaded", 0},         // read
		{"refused", 434},         // pidfd_open
		{"unlisted", 400},        // not an x86-64 number
		{"past the table", 1000}, // beyond sysno.Limit
		{"registered twice", 9},  // mmap
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("register(%d) did not panic", tt.nr)
				}
			}()
			register(func(*Call) int64 { return 0 }, tt.nr)
		})
	}
}
