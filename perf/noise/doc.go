// Package noise measures OS noise with a fixed-work-quantum (FWQ) loop, as
// LLNL's FWQ benchmark that McKernel's papers report: a thread does the
// same amount of work again and again and times each quantum; on a quiet
// CPU every quantum takes the same time, and whatever the OS does on that
// CPU (ticks, daemons, interrupts, offload helpers) shows as quanta that
// take longer.
//
// Run calibrates the work to a quantum on a Linux CPU, then runs one
// worker per LWK CPU of an instance (under mcexec) and one on that Linux
// CPU (natively), side by side, each pinned with sched_setaffinity, and
// summarises each CPU's quantum times (Summarize). The worker is the
// calling program itself re-executed in a worker mode (Worker), so no
// compiler is needed where the tool runs. A worker keeps its samples in
// memory and writes them to stdout only after the loop: writing during it
// would be an offloaded call on the LWK, noise of the tool's own making.
//
// The clock is CLOCK_MONOTONIC through the vDSO (time.Now), which the LWK
// leaves to the app: reading it costs tens of nanoseconds and no trap.
package noise
