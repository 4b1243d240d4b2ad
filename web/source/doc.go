// Package source polls LWK instances for the dashboard (cmd/mcdash):
// each poll reads an instance through the inspect layer as mcps does (no
// attach, no stop), keeps the latest snapshot, its counters' totals and
// rates (perf/stat), and a short timeline of which thread ran on each LWK
// CPU. A dump or an app core is one more Source, read once and read-only.
//
// The Poller keeps a reader (the target and its DWARF layout) open per
// instance between polls and opens a new one when the daemon's pid
// changes (a reboot: another build, counters from zero, a new timeline).
// Its status is ihkosctl N status's (crash/monitor.Status), or DOWN with
// NotBooted. It polls every Options.Refresh, and faster while a reader
// asks it to (Pacer: an SSE stream at 10 Hz). A Source that can open its
// memory again for an expression is a Targets.
package source
