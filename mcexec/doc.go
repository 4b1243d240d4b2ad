// Package mcexec is the Linux-side proxy of an LWK process, as McKernel's
// mcexec: it asks the LWK to create the process from the executable it
// opened, then serves the process's offloaded system calls in its own
// context, so the app's descriptors, cwd, credentials and stdio are its own.
// Its exit status is the app's; SIGINT, SIGTERM, SIGHUP and friends sent to
// it are forwarded to the app.
//
// mcexec -n PPN (Options.PPN) makes the process one of PPN an MPI launcher
// starts on the node: the request carries the local rank the launcher put
// in the environment (rank.go), by which the kernel gives the process its
// share of the CPUs (kernel/task_partition.go).
//
// Job control: SIGTSTP, SIGTTIN, SIGTTOU and SIGCONT are forwarded too.
// When the app stops, the LWK stops mcexec with SIGSTOP, so the shell sees
// the job stopped; fg or kill -CONT continues mcexec, which forwards the
// SIGCONT and so continues the app. SIGSTOP sent to mcexec itself cannot
// be caught: it stops mcexec only, and the app runs on until it offloads
// a call, which then waits for mcexec.
//
// Unified address space: before the Go runtime starts, a C constructor
// (reserve.go) reserves the app window (ikc.WindowStart..WindowEnd) with a
// PROT_NONE mapping, so that the runtime never places anything where app
// memory will be mirrored. Each worker replays the IKC mapping log before it
// executes a call, mapping the partition memfd at the very addresses the app
// uses, so pointer arguments (including nested ones: iovec, msghdr) work
// unmodified.
//
// mcexec keeps its own descriptors (control socket, partition, channel)
// above ReservedFD so that the app's first open returns 3 as natively, and
// refuses to let the app close or overwrite them.
//
// A forked LWK process needs its own mcexec, its child proxy (fork.go). A
// Go program cannot fork itself, and starting one costs ~10 ms of CPU, so
// child proxies are kept: one whose process ended goes back to the mcexec
// that started it and serves a later fork of that mcexec's process, which
// hands it the descriptor table by SCM_RIGHTS (pool.go). When forks come
// faster than a proxy gets ready again, a spare is started beside it, up
// to four.
package mcexec
