// Package stat is mcperf's counting: it names the events mcperf stat and
// mcperf list know (Linux's software and generic hardware events, and the
// LWK's own from perf.LWKEvents, as lwk/NAME/ or sde:::lwk::NAME), reads
// their values from what the kernel counted (a Sample: a run's profile
// from mcexec --profile=json, or the difference of two reads of a live
// instance), and prints them in perf stat's layouts: the table, its CSV
// (-x) and its interval rows (-I). No library: perf's formats are a few
// printf lines, and the values come from the LWK's counters, not a PMU.
package stat
