package mcexec

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
)

// AttachEnv marks an mcexec started as the child proxy of a forked LWK
// process: "instance:token:fd,fd,..." (the close-on-exec descriptors).
const AttachEnv = "GOMCK_ATTACH"

// startChild starts the proxy of a forked process. A Go program cannot
// fork itself, so mcexec re-executes itself in child-proxy mode; the
// app's descriptors are passed at their numbers (ProcAttr.Files clears
// close-on-exec, so the child restores the flags from the list). It
// returns the child proxy's pid, which becomes the LWK process's pid.
func (p *Proxy) startChild(token uint64) int64 {
	var files []uintptr
	var cloexec []string
	for fd := 0; fd < ReservedFD; fd++ {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			files = append(files, ^uintptr(0)) // closed in the child
			continue
		}
		files = append(files, uintptr(fd))
		if fl&unix.FD_CLOEXEC != 0 {
			cloexec = append(cloexec, strconv.Itoa(fd))
		}
	}
	for len(files) > 0 && files[len(files)-1] == ^uintptr(0) {
		files = files[:len(files)-1]
	}
	env := []string{fmt.Sprintf("%s=%d:%d:%s", AttachEnv, p.opts.Instance, token, strings.Join(cloexec, ","))}
	if dir := os.Getenv(control.RunDirEnv); dir != "" {
		env = append(env, control.RunDirEnv+"="+dir)
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"mcexec"}, &syscall.ProcAttr{Env: env, Files: files})
	if err != nil {
		return -int64(err.(syscall.Errno))
	}
	go func() {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}()
	return int64(pid)
}

// Attach is the child-proxy mode: it takes over the forked process named
// by spec (AttachEnv's value) and serves it until it ends.
func Attach(spec string, o Options) (code int, sig syscall.Signal, err error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		return 0, 0, fmt.Errorf("mcexec: bad %s %q", AttachEnv, spec)
	}
	inst, err1 := strconv.Atoi(parts[0])
	token, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("mcexec: bad %s %q", AttachEnv, spec)
	}
	for _, f := range strings.Split(parts[2], ",") {
		if fd, err := strconv.Atoi(f); err == nil {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
	if err := windowReserved(); err != nil {
		return 0, 0, err
	}
	o.Instance = inst
	p, err := newProxy(o)
	if err != nil {
		return 0, 0, err
	}
	defer p.conn.Close()
	resp, fds, err := p.conn.Call(control.Request{Op: control.OpAttach, Token: token})
	if err != nil {
		return 0, 0, err
	}
	if err := p.connect(resp, fds); err != nil {
		return 0, 0, err
	}
	return p.serve()
}
