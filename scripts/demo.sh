#!/usr/bin/env bash
# The main job on a fresh machine: install, build, boot an LWK on the last
# CPU with 512 MiB, run programs under it, show its state, and start the
# dashboard (bin/mcdash) in the background. The instance and the dashboard
# stay up; `bin/mcstop` (as root) shuts the LWK down, and
# `kill $(cat $state/mcdash.pid)` the dashboard.
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

# The dashboard outlives this script: nohup, its log and pid file in
# /run/gomck (/tmp/gomck without /run). A dashboard an earlier demo started
# is stopped first, by the pid it wrote.
state=/run/gomck
mkdir -p "$state" 2>/dev/null || { state=/tmp/gomck; mkdir -p "$state"; }
if [ -f "$state/mcdash.pid" ]; then
	old=$(cat "$state/mcdash.pid")
	if [ "$(cat /proc/"$old"/comm 2>/dev/null)" = mcdash ]; then
		kill "$old"
		while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
	fi
fi
nohup bin/mcdash -listen 127.0.0.1:9900 >"$state/mcdash.log" 2>&1 &
echo $! >"$state/mcdash.pid"
for _ in $(seq 100); do
	grep -q "listening on" "$state/mcdash.log" && break
	kill -0 "$(cat "$state/mcdash.pid")" 2>/dev/null || { cat "$state/mcdash.log"; exit 1; }
	sleep 0.1
done
echo "== bin/mcdash (log $state/mcdash.log; stop it: kill \$(cat $state/mcdash.pid); stop the LWK: bin/mcstop)"
echo "dashboard: http://127.0.0.1:9900/"
