// Command mccrash analyses an LWK kernel dump, or the live instance, with
// the crash utility's commands (package crash/command):
//
//	mccrash [-k KERNEL] DUMP
//	mccrash --live [-i N] [-k KERNEL]
//	mccrash ... -c 'ps' -c 'bt -a'    (or -c 'ps; bt -a')
//
// On a terminal it prompts "crash> " with history and completion
// (github.com/chzyer/readline: a maintained pure-Go line editor, with
// emacs keys, a history file, reverse search and a completer interface,
// which bufio cannot offer); otherwise it reads commands from stdin, one
// a line, without prompting.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chzyer/readline"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gomck/gomck/crash/command"
	"github.com/gomck/gomck/inspect"
)

func main() {
	fs := pflag.NewFlagSet("mccrash", pflag.ContinueOnError)
	fs.SortFlags = false
	var o inspect.Options
	var live bool
	var cmds []string
	fs.BoolVar(&live, "live", false, "analyse the running instance instead of a dump")
	fs.IntVarP(&o.Instance, "instance", "i", 0, "with --live: OS instance `N` (mcos<N>)")
	fs.StringVarP(&o.Kernel, "kernel", "k", "", "daemon binary `PATH` whose DWARF describes the memory (default: the dump's or running daemon's)")
	fs.StringArrayVarP(&cmds, "command", "c", nil, "run `CMD` and exit; repeat, or separate commands with ';'")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: mccrash [-k KERNEL] [-c CMD]... DUMP\n       mccrash --live [-i N] [-k KERNEL] [-c CMD]...\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	switch {
	case live && fs.NArg() == 0:
	case !live && fs.NArg() == 1:
		o.Dump = fs.Arg(0)
	default:
		fs.Usage()
		os.Exit(2)
	}
	s, err := command.Open(o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mccrash: %v\n", err)
		os.Exit(1)
	}
	defer s.Close()
	os.Exit(session(s, cmds))
}

// session runs cmds, or reads commands; the status is 1 if one failed.
func session(s *command.Session, cmds []string) int {
	status := 0
	run := func(line string) bool {
		err := s.Run(line)
		if errors.Is(err, command.ErrFailed) {
			status = 1
		}
		return !errors.Is(err, command.ErrQuit)
	}
	if len(cmds) > 0 {
		for _, c := range cmds {
			if !run(c) {
				break
			}
		}
		return status
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() && run(sc.Text()) {
		}
		return status
	}
	// What crash shows at start: the system, then the context.
	s.Run("sys")
	fmt.Println()
	s.Run("set")
	fmt.Println()
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "crash> ",
		HistoryFile:     historyFile(),
		AutoComplete:    completer(),
		InterruptPrompt: "^C",
		EOFPrompt:       "exit",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mccrash: %v\n", err)
		return 1
	}
	defer rl.Close()
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err == io.EOF || err != nil || !run(line) {
			return status
		}
	}
}

// historyFile is ~/.mccrash_history, as crash keeps ~/.crash_history.
func historyFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".mccrash_history")
}

// completer completes command names, and "help" with a command name.
func completer() readline.AutoCompleter {
	var items []readline.PrefixCompleterInterface
	for _, n := range command.Names() {
		if n == "help" {
			var sub []readline.PrefixCompleterInterface
			for _, m := range command.Names() {
				sub = append(sub, readline.PcItem(m))
			}
			items = append(items, readline.PcItem(n, sub...))
			continue
		}
		items = append(items, readline.PcItem(n))
	}
	return readline.NewPrefixCompleter(items...)
}
