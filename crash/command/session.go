package command

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/eval"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/lwk"
)

// Session is an open dump or live instance and the context thread.
type Session struct {
	Out, Err io.Writer

	tg     *inspect.Target
	layout *layout.Layout
	dump   *dumpfile.Dump // the dump's own notes (open files); nil live
	snap   *lwk.Snapshot  // a dump's, read once; nil live
	pid    int            // the context, 0 when there is no thread
	tid    int
	ev     *eval.Evaluator
	kernel *symtab
	apps   map[string]*app
}

// ErrQuit is what q, quit and exit return.
var ErrQuit = errors.New("quit")

// what is everything a command may show of a snapshot.
var what = lwk.What{VMAs: true, IKC: true, Kmsg: true, Regs: true}

// Open opens the dump or live instance o names, its kernel's DWARF
// layout, and sets the first context. A kernel binary of another build
// is refused (inspect.ErrMismatch).
func Open(o inspect.Options, out, errs io.Writer) (*Session, error) {
	s := &Session{Out: out, Err: errs, apps: map[string]*app{}}
	if o.Dump != "" && dumpfile.Is(o.Dump) {
		d, err := dumpfile.Open(o.Dump)
		if err != nil {
			return nil, err
		}
		s.dump = d
	}
	tg, l, err := (&cli.Target{Options: o}).Open()
	if err != nil {
		if s.dump != nil {
			s.dump.Close()
		}
		return nil, err
	}
	s.tg, s.layout = tg, l
	snap, err := s.snapshot()
	if err != nil {
		s.Close()
		return nil, err
	}
	if !tg.Live {
		s.snap = snap
	}
	s.pid, s.tid = firstContext(snap)
	return s, nil
}

// Close releases the target.
func (s *Session) Close() error {
	var errs []error
	if s.ev != nil {
		errs = append(errs, s.ev.Close())
	}
	for _, a := range s.apps {
		errs = append(errs, a.close())
	}
	if s.dump != nil {
		errs = append(errs, s.dump.Close())
	}
	return errors.Join(append(errs, s.tg.Close())...)
}

// snapshot is the dump's snapshot, or the live daemon's now.
func (s *Session) snapshot() (*lwk.Snapshot, error) {
	if s.snap != nil {
		return s.snap, nil
	}
	snap, err := lwk.Read(s.tg, s.layout, what)
	if err != nil {
		return nil, err
	}
	for _, e := range snap.Errors {
		fmt.Fprintf(s.Err, "WARNING: %s\n", e)
	}
	return snap, nil
}

// firstContext is the thread current on the lowest LWK CPU, or the first
// thread of the first process.
func firstContext(snap *lwk.Snapshot) (pid, tid int) {
	for _, c := range snap.CPUs {
		if c.Current == 0 {
			continue
		}
		for _, p := range snap.Procs {
			for _, t := range p.Threads {
				if t.TID == c.Current {
					return p.PID, t.TID
				}
			}
		}
	}
	for _, p := range snap.Procs {
		for _, t := range p.Threads {
			if !t.Changing {
				return p.PID, t.TID
			}
		}
	}
	return 0, 0
}

// command is one of mccrash's commands.
type command struct {
	name    string
	aliases []string
	usage   string // arguments, as crash's help synopsis
	summary string
	run     func(s *Session, args []string) error
}

// commands is the command table, by name; help lists it.
var commands []*command

func init() {
	commands = []*command{
		{name: "bt", usage: "[-a] [PID|TID]", summary: "the thread's user stack, its system call and where the kernel holds it (-a: every thread)", run: (*Session).bt},
		{name: "dis", usage: "[-l] ADDR|SYMBOL [COUNT]", summary: "disassemble COUNT instructions, or a whole function by name (-l: with file:line)", run: (*Session).dis},
		{name: "exit", aliases: []string{"q", "quit"}, summary: "leave mccrash", run: func(*Session, []string) error { return ErrQuit }},
		{name: "files", usage: "[PID]", summary: "the process's open files (its mcexec's descriptors)", run: (*Session).files},
		{name: "help", usage: "[COMMAND]", summary: "list the commands, or say what one does", run: (*Session).help},
		{name: "kmem", usage: "-i|-s", summary: "memory use per NUMA node (-i); the kernel's records, counted and sized (-s)", run: (*Session).kmem},
		{name: "log", summary: "the kernel message ring (kmsg)", run: (*Session).log},
		{name: "p", aliases: []string{"print"}, usage: "EXPR", summary: "a Go expression on the kernel's state, as mcinspect --print", run: (*Session).print},
		{name: "ps", usage: "[PID|TID|COMM]...", summary: "every LWK thread: PID TID PPID CPU TASK ST %MEM VSZ RSS COMM ('>' current on its CPU)", run: (*Session).ps},
		{name: "rd", usage: "[-u|-p] ADDR [COUNT]", summary: "read COUNT 8-byte words: daemon (kernel) address, -u the app's, -p a partition offset", run: (*Session).rd},
		{name: "set", usage: "[PID|TID | -c CPU]", summary: "set the context thread (-c: the one current on an LWK CPU), or show it", run: (*Session).set},
		{name: "sig", usage: "[PID]", summary: "signal dispositions, pending and blocked signals of the process and its threads", run: (*Session).sig},
		{name: "struct", usage: "[-o] TYPE [ADDR]", summary: "a kernel type's layout with offsets, or its value at ADDR", run: (*Session).structCmd},
		{name: "sym", usage: "ADDR|SYMBOL", summary: "an address as symbol+offset, or a symbol's address (app, then daemon)", run: (*Session).sym},
		{name: "sys", summary: "what was dumped: instance, state, build, time, level", run: (*Session).sys},
		{name: "vm", usage: "[PID]", summary: "the process's address space: MM, RSS, TOTAL_VM and each VMA", run: (*Session).vm},
	}
}

// lookup finds a command by name or alias.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c
		}
	}
	return nil
}

// Names lists every command name and alias, for completion.
func Names() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
		out = append(out, c.aliases...)
	}
	slices.Sort(out)
	return out
}

// ErrFailed is what Run returns when a command failed; its error was
// written to Err.
var ErrFailed = errors.New("a command failed")

// Run runs one command line; several may be separated by ';'. A failing
// command's error goes to Err as "mccrash: CMD: error", in turn with the
// output, and the others still run; Run then returns ErrFailed. ErrQuit
// ends the line and the session.
func (s *Session) Run(line string) error {
	failed := false
	for _, one := range strings.Split(line, ";") {
		args := strings.Fields(one)
		if len(args) == 0 {
			continue
		}
		c := lookup(args[0])
		var err error
		if c == nil {
			err = fmt.Errorf("command not found: %s", args[0])
		} else if err = s.runOne(c, args[1:]); errors.Is(err, ErrQuit) {
			return err
		} else if err != nil {
			err = fmt.Errorf("%s: %w", args[0], err)
		}
		if err != nil {
			fmt.Fprintf(s.Err, "mccrash: %v\n", err)
			failed = true
		}
	}
	if failed {
		return ErrFailed
	}
	return nil
}

// runOne runs a command. The memory it reads may be corrupt (a dump of
// a dying daemon): a bug that garbage reaches ends the command with an
// error, not the session.
func (s *Session) runOne(c *command, args []string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error (please report): %v", p)
		}
	}()
	return c.run(s, args)
}

// flags parses a command's options into fs; the operands are returned.
func flags(name string, args []string, set func(fs *pflag.FlagSet)) ([]string, error) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	set(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w (see: help %s)", err, name)
	}
	return fs.Args(), nil
}

// operands checks the number of operands a command was given.
func operands(name string, args []string, least, most int) error {
	if len(args) < least || len(args) > most {
		c := lookup(name)
		return fmt.Errorf("usage: %s %s", c.name, c.usage)
	}
	return nil
}
