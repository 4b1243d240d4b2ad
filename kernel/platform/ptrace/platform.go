package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/platform"
)

// Platform starts stubs of one instance: it holds the stub executable and
// the partition memfd every stub maps app memory from.
type Platform struct {
	exeFD, partitionFD int
}

// New makes the ptrace platform over the partition memfd. Messages about
// what it could not set up but can run without go to logf.
func New(partitionFD int, logf func(format string, args ...any)) (platform.Platform, error) {
	exe, err := stubExecutable()
	if err != nil {
		return nil, err
	}
	if err := quietChildStops(); err != nil {
		logf("warning: SIGCHLD still raised for every stub stop: %v", err)
	}
	return &Platform{exeFD: exe, partitionFD: partitionFD}, nil
}

// NewContext starts a stub traced by the calling OS thread.
func (p *Platform) NewContext(hostCPU int) (platform.Context, error) {
	s, err := startStub(p.exeFD, p.partitionFD, hostCPU)
	if err != nil {
		return nil, err // not a nil *Stub in a non-nil interface
	}
	return s, nil
}

// Close releases the stub executable.
func (p *Platform) Close() error {
	if err := unix.Close(p.exeFD); err != nil {
		return fmt.Errorf("ptrace platform: close stub executable: %w", err)
	}
	return nil
}
