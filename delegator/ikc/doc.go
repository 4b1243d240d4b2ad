// Package ikc is the inter-kernel communication wire between the LWK daemon
// and an mcexec proxy: one shared-memory channel per LWK process.
//
// A channel is a small memfd that both sides map. It holds
//
//   - fixed-size request/response slots for offloaded system calls (syscall
//     number, six arguments, thread ids, state, return value), each with its
//     own futex word so the LWK side can sleep on the answer;
//   - a request doorbell, a futex word that mcexec's workers sleep on;
//   - the mapping log: an append-only ring of (virtual range -> partition
//     offset) records that mcexec replays into its mirror of the app's
//     address space before it executes an offloaded call, so that pointer
//     arguments resolve to the very pages the app sees (unified address
//     space).
//
// Both sides spin a bounded number of iterations before sleeping on a futex:
// on an idle machine an answer usually arrives within the spin and the
// sleep/wake pair (several microseconds on this kind of VM) is saved.
//
// The package also fixes the app address window: the range of virtual
// addresses the LWK may give to app mappings. mcexec reserves it before its
// Go runtime starts so that the runtime never places anything there.
package ikc
