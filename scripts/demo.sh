#!/usr/bin/env bash
# The main job on a fresh machine: install, build, boot an LWK on the last
# CPU with 512 MiB, run programs under it, show its state. The instance
# stays up; `bin/mcstop` (as root) shuts it down.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
make -s
cpu=$(awk -F'[-,]' '{print $NF}' /sys/devices/system/cpu/online)
bin/mcreboot -c "$cpu" -m 512M -O
echo "== booted mcos0 on CPU $cpu"; bin/ihkosctl 0 kmsg
prog=$(go run ./internal/testprog/cmd/buildprog hello)
echo "== bin/mcexec $prog"; bin/mcexec "$prog"
echo "== bin/mcexec busybox sha256sum /etc/os-release"; bin/mcexec busybox sha256sum /etc/os-release
echo "== bin/ihkosctl 0 status"; bin/ihkosctl 0 status
echo "dashboard: not built yet (the web/ issue); stop the LWK with: bin/mcstop"
