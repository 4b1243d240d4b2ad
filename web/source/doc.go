// Package source polls LWK instances for the dashboard (cmd/mcdash):
// each poll reads an instance through the inspect layer as mcps does (no
// attach, no stop), keeps the latest snapshot, its counters' totals and
// rates (perf/stat), and a short timeline of which thread ran on each LWK
// CPU. A dump or an app core is one more Source, read once and read-only.
package source
