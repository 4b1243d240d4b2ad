// Package sysno is the one table of x86-64 Linux system calls and how the
// LWK serves each (ARCHITECTURE.md §2, "Syscall split"): by number, the
// call's Linux name, its Kind (local, offloaded, prepared by the LWK then
// offloaded, or refused with an errno) and, for a call the LWK handles,
// its family: the file of kernel/syscalls that holds the handler.
//
// kernel/syscalls builds its dispatch array from this table and refuses a
// handler the table does not expect, so the two cannot drift; tools name
// calls with it. It needs nothing but the standard library, so that any
// tool can import it.
//
// The numbers and names are those of Linux's syscall_64.tbl (0..336 and
// 424..471 today); a test checks them against the system's
// <asm/unistd_64.h>. Numbers Linux retired or never implemented on x86-64
// (tuxcall, vserver, ...) are listed as offloaded, like numbers the table
// does not list: Linux answers them ENOSYS.
package sysno
