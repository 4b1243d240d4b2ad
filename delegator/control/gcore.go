package control

import (
	"encoding/json"
	"os"

	"golang.org/x/sys/unix"
)

// Gcore has instance n write the core of its process pid into path
// (mcgcore, the dashboard's core button): the daemon pauses the process
// only while it copies its memory. A core that cannot be written whole
// is removed.
func Gcore(n, pid int, path string) (GcoreResult, error) {
	var res GcoreResult
	c, err := Dial(n)
	if err != nil {
		return res, err
	}
	defer c.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return res, err
	}
	resp, fds, err := c.Call(Request{Op: OpGcore, PID: pid}, int(f.Fd()))
	for _, fd := range fds {
		unix.Close(fd)
	}
	if err == nil {
		err = json.Unmarshal(resp.Data, &res)
		if err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path)
	}
	return res, err
}
