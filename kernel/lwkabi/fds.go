package lwkabi

// AppFDLimit bounds an LWK app's descriptor numbers: they are its mcexec's,
// which keeps its own at and above it (mcexec.ReservedFD). It is the
// app's nr_open: RLIMIT_NOFILE may not be raised beyond it.
const AppFDLimit = 900
