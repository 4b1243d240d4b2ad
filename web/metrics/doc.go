// Package metrics exposes LWK instances to Prometheus: a
// prometheus.Collector (github.com/prometheus/client_golang, whose
// registry and promhttp encode the text and protobuf formats: no
// hand-written exposition) over a web/source.Source, read at each scrape:
// NewCollector(src) returns the *Collector (not the interface), so that a
// caller can register it and keep its concrete type. cmd/mcdash serves it
// at /metrics.
//
// Names have the mck_ prefix, values are in base units (seconds, bytes)
// and counters end in _total. Labels: os (the instance's index), cpu (the
// LWK CPU), node (the NUMA node), pid, syscall (the system call's name)
// and kind (local: served by the LWK, offload: offloaded to mcexec). The
// help texts of the LWK's events are perf.LWKEvents' (perf/lwk.go), the
// one table of them.
//
// Cardinality is bounded by what the instance has: per instance a fixed
// set, per LWK CPU and per NUMA node a few series each, per system call
// number two kinds of the numbers actually called since boot (at most
// the table's size, a few dozen in practice), and per live process ten
// series; no series per thread, so a process of 1,000 threads costs what
// a process of one does.
//
// Counters only grow, as Prometheus's rate() needs, though what a read
// shows can step back: instance-wide totals are the live threads' counts
// plus the ended threads' (lwk.Stats.Ended*, summed by
// perf/stat.InstanceTotals, the source's Instance.Totals), but a thread
// that ends between the read of the threads and the read of the ended
// sums, or a record read as changing, makes one read short. So the
// collector keeps each counter series' highest value since the
// instance's boot and never exports less. A process's own counters are
// the sum of its threads, and the kernel keeps no ended sums per process:
// the collector folds the last counts it saw of each thread that is gone
// into its process's series (what a thread counted after the previous
// scrape, before its end, is lost to that process's series, never to the
// instance's). That state is forgotten for series and processes unseen
// for staleScrapes scrapes and when the instance reboots (a reboot is a
// counter reset, as Prometheus expects).
package metrics
