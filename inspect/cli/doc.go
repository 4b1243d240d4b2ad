// Package cli is what mcps and mcinspect share: the flags that say what
// to inspect (-i N, --dump FILE, --kernel PATH, --json), opening it with
// its DWARF layout, and reporting errors the same way.
//
// Flags are parsed with spf13/pflag: ps, crash and McKernel's tools mix
// one-letter flags (-p, -o, -v, -i) with long ones (--json, --vtop), which
// the standard flag package can only imitate, and pflag prints both forms
// in its usage.
package cli
