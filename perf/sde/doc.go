// Package sde is the LWK's side of PAPI's software-defined events: the
// layout of the read-only counters page the kernel maps into every LWK
// process, and the small C library (libgomck_sde.so, built on Debian's
// libsde) that registers the page's words as sde:::lwk:: events.
//
// The kernel adds each thread's counts to the page's process totals after
// each system call (Publish), so PAPI_read is a load from the page, not a
// system call. Totals are per process, counting threads that ended, as
// PAPI's sde events of a library are. The library finds the page through
// the auxv entry AuxCounters.
//
// lib/lwk_events.h, the C side's names, is generated from perf.LWKEvents
// (go generate; TestHeaderCurrent fails when it drifts).
package sde

//go:generate go run ./gen -o lib/lwk_events.h
