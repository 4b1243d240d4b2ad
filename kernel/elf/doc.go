// Package elf loads x86-64 Linux executables into an LWK address space:
// static ET_EXEC and static-PIE images, the dynamic linker named by
// PT_INTERP, and the initial stack with argv, envp and the auxiliary vector
// that the System V ABI and glibc expect.
//
// The file is read through the descriptor mcexec opened on the Linux side
// (so its path, credentials and cwd rules are Linux's) and copied into
// partition pages through the direct map.
package elf
