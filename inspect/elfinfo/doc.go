// Package elfinfo reads the few things inspect/ needs from ELF files
// besides DWARF: build ids (NT_GNU_BUILD_ID, or Go's own build id note)
// of the daemon binary, and the notes of a core file of the daemon (its
// pid, auxiliary vector and mapped files, as gdb's gcore writes them).
//
// The note parsers take untrusted bytes (a dump from anywhere) and are
// fuzzed; they return errors, never panic, on truncated or hostile input.
// debug/elf opens the files; it does not decode these note payloads.
package elfinfo
