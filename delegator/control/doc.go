// Package control is the control protocol between the Linux-side tools
// (mcreboot, ihkosctl, ihkconfig, mcexec) and an LWK daemon: one unix
// SOCK_SEQPACKET socket per OS instance, carrying one message per packet
// with descriptors attached by SCM_RIGHTS (the exec request hands the
// daemon the executable mcexec opened; the reply hands mcexec the partition
// memfd and its IKC channel).
//
// Requests and responses travel in a compact binary encoding (wire.go), not
// JSON: a fork sends about ten of them, and their JSON cost about 100 µs of
// CPU a fork, a fifth of its round trip. Other types that implement encoding.BinaryAppender
// and encoding.BinaryUnmarshaler travel binary too; the rest as JSON.
//
// The socket is mode 0600 in a directory only root may write, owned by the
// instance's owner, so only that user and root reach the daemon.
package control
