package command

import (
	"fmt"
	"strings"
)

// help lists the commands in columns, as crash's help, or describes one.
func (s *Session) help(args []string) error {
	if err := operands("help", args, 0, 1); err != nil {
		return err
	}
	var b strings.Builder
	if len(args) == 1 {
		c := lookup(args[0])
		if c == nil {
			return fmt.Errorf("no such command: %s", args[0])
		}
		fmt.Fprintf(&b, "NAME\n  %s - %s\n\nSYNOPSIS\n  %s %s\n", c.name, c.summary, c.name, c.usage)
		if len(c.aliases) > 0 {
			fmt.Fprintf(&b, "\nALIASES\n  %s\n", strings.Join(c.aliases, " "))
		}
		_, err := fmt.Fprint(s.Out, b.String())
		return err
	}
	names := Names()
	const cols = 5
	rows := (len(names) + cols - 1) / cols
	b.WriteByte('\n')
	for r := range rows {
		for c := range cols {
			if i := c*rows + r; i < len(names) {
				fmt.Fprintf(&b, "%-15s", names[i])
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nFor help on any command above, enter \"help <command>\".\n")
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
