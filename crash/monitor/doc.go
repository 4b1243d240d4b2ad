// Package monitor watches one LWK instance without a person, as
// McKernel's ihkmond: mcreboot starts one per instance (cmd/ihkmond). It
// reads the heartbeat the daemon writes (delegator/control.Heartbeat)
// and never asks the daemon anything, so a stopped or wedged daemon
// cannot hang it.
//
// An instance whose beats stop for the timeout (3 s by default), or one
// of whose CPUs stays stuck in the kernel that long, is HUNGUP: the
// monitor takes a dump of it (crash/capture, at the instance's dump
// level) and writes the dump's kmsg beside it in the dump directory
// ($GOMCK_DUMPDIR, /var/crash/gomck). If the beats come back, the
// instance is RUNNING again. A panicking daemon dumps itself (its memory
// is about to go) and says so in its last beat: the monitor marks it
// PANIC and writes the kmsg of that dump. Each verdict goes to the
// monitor file that ihkosctl status reads (control.Monitor), to stderr
// and to the journal through syslog where there is one. The monitor ends
// with its daemon.
package monitor
