#!/usr/bin/env bash
# Installs what gomck needs on a fresh Debian machine: gcc and static glibc
# for the test programs, static busybox, gdb and elfutils (eu-readelf), PAPI (libpapi-dev, papi-tools), and
# Delve, which the core file tests drive; Capstone for mccrash's dis. Go comes with the machine.
set -euo pipefail
need=()
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v make >/dev/null || need+=(make)
command -v gdb >/dev/null || need+=(gdb) # gcore, for the mcps --dump tests
command -v eu-readelf >/dev/null || need+=(elfutils)
dpkg -s libcapstone-dev >/dev/null 2>&1 || need+=(libcapstone-dev) # mccrash dis (gapstone, cgo)
dpkg -s linux-perf >/dev/null 2>&1 || need+=(linux-perf) # perf stat under mcexec (the lwk PMU tests)
dpkg -s libpapi-dev >/dev/null 2>&1 || need+=(libpapi-dev) # libgomck_sde.so, the PAPI tests (libsde1 comes with it)
command -v papi_native_avail >/dev/null || need+=(papi-tools)
command -v chromium >/dev/null || need+=(chromium) # headless Chromium, for the dashboard's page tests (chromedp)
command -v promtool >/dev/null || need+=(prometheus) # promtool check metrics, the /metrics tests
command -v stress-ng >/dev/null || need+=(stress-ng) # TestStressNG, the stress-ng figures
dpkg -s libpython3.11-testsuite >/dev/null 2>&1 || need+=(libpython3.11-testsuite) # CPython's regrtest: TestRegrtest, make conformance
command -v mpicc.openmpi >/dev/null || need+=(openmpi-bin libopenmpi-dev) # TestMPI*, the MPI figures (mcexec -n)
command -v mpicc.mpich >/dev/null || need+=(mpich)
command -v ip >/dev/null || need+=(iproute2) # TestMPINetns: two "nodes" in network namespaces
if [ ${#need[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
go mod download
# Optional, only to regenerate web/bpf's committed BPF object (go generate ./web/bpf): apt-get install clang libbpf-dev
# Debian's delve is too old for our Go.
dlv="$(go env GOPATH)/bin/dlv"
[ -x "$dlv" ] && "$dlv" version 2>/dev/null | grep -q 1.27.2 || go install github.com/go-delve/delve/cmd/dlv@v1.27.2
