package bpf

// The object and its Go are committed: a build needs no clang.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target amd64 -cflags "-O2 -g -Wall -I/usr/include/x86_64-linux-gnu" -type offload_key -type offload_hist -type cpu_time collect collect.bpf.c
