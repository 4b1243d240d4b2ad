package lwk

import (
	"debug/elf"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect"
)

// ReadAppCore is the snapshot an app core holds (an mcgcore core, or
// one the LWK wrote on a core signal): one process, its threads as the
// core's NT_PRSTATUS notes give them, its VMAs its PT_LOAD segments,
// named by NT_FILE. No instance state is in it: no CPUs, allocator or
// kmsg; and no partition pages, so no RSS (the core's holes are sparse
// file ranges, not unpopulated pages one can tell apart).
func ReadAppCore(c *inspect.Core) (*Snapshot, error) {
	if len(c.Threads) == 0 || c.PID <= 0 {
		return nil, fmt.Errorf("%s: not a process's core (no NT_PRSTATUS or NT_PRPSINFO note)", c.Path)
	}
	info := c.Process
	p := Process{PID: c.PID, PPID: info.PPID, Exe: c.Executable(), Args: strings.Fields(info.Args)}
	if p.Exe == "" {
		p.Exe = info.Name
	}
	state := "S"
	if info.State != 0 {
		state = string(info.State)
	}
	for _, st := range c.Threads {
		t := Thread{TID: st.TID, PID: c.PID, CPU: -1, State: state, Syscall: -1, Pending: st.Pending}
		p.Threads = append(p.Threads, t)
	}
	for _, l := range c.Loads() {
		v := VMA{Start: l.Start, End: l.End, Prot: prot(l.Flags), Kind: "anon"}
		for _, f := range c.Files {
			if f.Start <= l.Start && l.Start < f.End {
				v.Kind, v.Name, v.FileOff = "file", f.Path, f.Offset+(l.Start-f.Start)
				break
			}
		}
		p.VSZ += l.End - l.Start
		p.VMAs = append(p.VMAs, v)
	}
	return &Snapshot{Source: "app core " + c.Path, State: "core", Procs: []Process{p}}, nil
}

// prot is a segment's protection as mmap's PROT_ bits.
func prot(f elf.ProgFlag) int {
	var p int
	for _, b := range []struct {
		flag elf.ProgFlag
		prot int
	}{{elf.PF_R, unix.PROT_READ}, {elf.PF_W, unix.PROT_WRITE}, {elf.PF_X, unix.PROT_EXEC}} {
		if f&b.flag != 0 {
			p |= b.prot
		}
	}
	return p
}
