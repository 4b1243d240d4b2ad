// Package control is the control protocol between the Linux-side tools
// (mcreboot, ihkosctl, ihkconfig, mcexec) and an LWK daemon: one unix
// SOCK_SEQPACKET socket per OS instance, carrying one JSON message per
// packet with descriptors attached by SCM_RIGHTS (the exec request hands the
// daemon the executable mcexec opened; the reply hands mcexec the partition
// memfd and its IKC channel).
//
// The socket is mode 0600 in a directory only root may write, owned by the
// instance's owner, so only that user and root reach the daemon.
package control
