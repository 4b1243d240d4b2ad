// Command eclair serves an LWK kernel dump, or the live instance, to gdb
// over the remote serial protocol, read-only, as McKernel's eclair does:
// every LWK thread is a gdb thread, memory is read through its process's
// page table. See package crash/gdbserver.
//
//	eclair [-d] [-p PID] [--kernel PATH] DUMP  (--stdio | -l ADDR)
//	eclair [-d] [-p PID] --live [-i N]         (--stdio | -l ADDR)
//
// e.g. gdb -ex 'target remote | eclair --stdio mcdump_0_20260101-120000' ./a.out,
// or eclair -l localhost:1234 DUMP and gdb's target remote localhost:1234.
// -l serves one gdb and exits when it detaches. gdb starts in the thread
// that got a signal, or else is current on its CPU, of any process or of
// process PID (-p): gdb learns the load address and the libraries of the
// process it starts in.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/crash/gdbserver"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
)

func main() {
	fs := pflag.NewFlagSet("eclair", pflag.ContinueOnError)
	var t cli.Target
	debug := fs.BoolP("debug", "d", false, "log every packet to stderr")
	live := fs.Bool("live", false, "serve the live instance (-i N) instead of a dump")
	stdio := fs.Bool("stdio", false, "speak on stdin and stdout (gdb's target remote | eclair --stdio ...)")
	listen := fs.StringP("listen", "l", "", "listen on TCP `ADDR` (e.g. localhost:1234) for one gdb")
	pid := fs.IntP("pid", "p", 0, "start gdb in LWK process `PID` (the one whose executable gdb is given)")
	fs.IntVarP(&t.Options.Instance, "instance", "i", 0, "with --live: OS instance `N` (mcos<N>)")
	fs.StringVar(&t.Options.Kernel, "kernel", "", "daemon binary `PATH` with DWARF (default: the dump's, or the running daemon's)")
	cli.Run(fs, os.Args[1:], func() error {
		switch {
		case *live && fs.NArg() > 0:
			return errors.New("--live or a DUMP, not both")
		case !*live && fs.NArg() != 1:
			return errors.New("give one DUMP, or --live")
		case *stdio == (*listen != ""):
			return errors.New("say where gdb is: --stdio or -l ADDR")
		}
		if !*live {
			t.Options.Dump = fs.Arg(0)
		}
		srv, closeTarget, err := open(&t)
		if err != nil {
			return err
		}
		defer closeTarget()
		if *pid != 0 {
			if err := srv.Focus(*pid); err != nil {
				return err
			}
		}
		srv.Warn = os.Stderr
		if *debug {
			srv.Log = os.Stderr
		}
		if *stdio {
			return srv.Serve(stdioConn{os.Stdin, os.Stdout})
		}
		return serveTCP(srv, *listen)
	})
}

// open reads the snapshot gdb is served: threads with their registers
// (a dump's: as it recorded them) and XSAVE areas, processes with their
// page tables and auxv, the kmsg.
func open(t *cli.Target) (*gdbserver.Server, func() error, error) {
	tg, l, err := t.Open()
	if err != nil {
		return nil, nil, err
	}
	snap, err := lwk.Read(tg, l, lwk.What{VMAs: true, Regs: true, FP: true, Auxv: true, Pending: true, Kmsg: true})
	if err != nil {
		tg.Close()
		return nil, nil, err
	}
	for _, e := range snap.Errors {
		fmt.Fprintf(os.Stderr, "eclair: warning: %s\n", e)
	}
	changing := 0
	for _, p := range snap.Procs {
		for _, t := range p.Threads {
			if t.Changing {
				changing++
			}
		}
	}
	if changing > 0 {
		fmt.Fprintf(os.Stderr, "eclair: warning: %d thread records kept changing while read: gdb does not see them\n", changing)
	}
	srv, err := gdbserver.New(tg.Mem, snap)
	if err != nil {
		tg.Close()
		return nil, nil, err
	}
	if dump := t.Options.Dump; dump != "" && dumpfile.Is(dump) {
		d, err := dumpfile.Open(dump)
		if err != nil {
			tg.Close()
			return nil, nil, err
		}
		srv.UseRecorded(d.Threads)
		d.Close()
	}
	return srv, tg.Close, nil
}

// serveTCP serves the first gdb that connects to addr.
func serveTCP(srv *gdbserver.Server, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "eclair: listening on %s\n", ln.Addr())
	c, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	defer c.Close()
	return srv.Serve(c)
}

// stdioConn is stdin and stdout as one stream.
type stdioConn struct {
	io.Reader
	io.Writer
}
