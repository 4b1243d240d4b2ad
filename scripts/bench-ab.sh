#!/usr/bin/env bash
# A/B benchmark: builds revision BASE in a temporary worktree and runs
# lwkbench on this tree's build with -base pointing at it, so both builds'
# figures are measured in the same rounds. Usage: bench-ab.sh BASE [IDS]
set -euo pipefail
base=${1:?usage: bench-ab.sh BASE_REVISION [FIGURE_IDS]}
only=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/gomck-base-XXXXXX)
trap 'git -C "$root" worktree remove --force "$dir" >/dev/null 2>&1 || rm -rf "$dir"' EXIT
git -C "$root" worktree add --detach "$dir" "$base" >/dev/null
make -C "$dir" all >/dev/null
args=(-base "$dir/bin")
[ -n "$only" ] && args+=(-only "$only")
cd "$root"
go run ./bench/cmd/lwkbench "${args[@]}"
