#!/usr/bin/env bash
# Replicas (issue 13): `up -d` of one service with 20 replicas against 20
# separate services, scaling a running stack from 20 to 40 and back, and
# Docker Compose's `up -d` of the same 20 replicas; all on the project's
# default bridge network, side by side in one hyperfine run each.
#
#   sudo benches/replicas.sh           # needs: hyperfine busybox-static
#   STACK=target/debug/stack RUNS=3 COMPOSE=0 benches/replicas.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
. "$here/benches/lib.sh"
STACK=$(realpath "${STACK:-$here/target/release/stack}")
work=${BENCH_DIR:-/tmp/stack-bench-replicas}
runs=${RUNS:-10}
export STACK_STATE_DIR=$work/state STACK_RUN_DIR=$work/run

rm -rf "$work"; mkdir -p "$work"
rootfs=$work/rootfs
busybox_rootfs "$rootfs"

mkdir -p "$work/rep" "$work/svc"
printf 'name: benchrep\nservices:\n  web:\n    rootfs: %s\n    command: sleep 3600\n    scale: 20\n' \
  "$rootfs" > "$work/rep/stack.yaml"
{ printf 'name: benchsvc\nservices:\n'
  for i in $(seq 1 20); do
    printf '  s%s:\n    rootfs: %s\n    command: sleep 3600\n' "$i" "$rootfs"
  done; } > "$work/svc/stack.yaml"

compose=$(compose_cmd)
if [ -n "$compose" ]; then
  tar -C "$rootfs" -c . | docker import - stackbench/busybox:latest >/dev/null
  mkdir -p "$work/compose"
  printf 'services:\n  web:\n    image: stackbench/busybox\n    command: sleep 3600\n    scale: 20\n' \
    > "$work/compose/docker-compose.yml"
fi

S="$STACK"
echo "## up -d: 20 replicas of one service against 20 services"
hyperfine --runs "$runs" --export-markdown "$work/up.md" \
  --prepare "cd $work/rep && $S down -t 0 >/dev/null 2>&1; cd $work/svc && $S down -t 0 >/dev/null 2>&1" \
  --cleanup "cd $work/rep && $S down -t 0 >/dev/null 2>&1; cd $work/svc && $S down -t 0 >/dev/null 2>&1" \
  -n "stack up -d, scale: 20" "cd $work/rep && $S up -d >/dev/null" \
  -n "stack up -d, 20 services" "cd $work/svc && $S up -d >/dev/null"

echo "## a running stack: scale 20 → 40 and 40 → 20"
(cd "$work/rep" && $S up -d >/dev/null)
hyperfine --runs "$runs" --export-markdown "$work/scale.md" \
  --prepare "cd $work/rep && $S scale web=20 >/dev/null" \
  -n "stack scale web=40 (from 20)" "cd $work/rep && $S scale web=40 >/dev/null"
hyperfine --runs "$runs" --export-markdown "$work/scale-down.md" \
  --prepare "cd $work/rep && $S scale web=40 >/dev/null" \
  -n "stack scale web=20 (from 40)" "cd $work/rep && $S scale web=20 >/dev/null"
(cd "$work/rep" && $S down -t 0 >/dev/null)

if [ -n "$compose" ]; then
  echo "## $compose up -d, scale: 20"
  hyperfine --runs 3 --export-markdown "$work/compose.md" \
    --prepare "cd $work/compose && $compose down -t 0 >/dev/null 2>&1" \
    --cleanup "cd $work/compose && $compose down -t 0 >/dev/null 2>&1" \
    -n "$compose up -d, scale: 20" "cd $work/compose && $compose up -d >/dev/null 2>&1"
  docker image rm stackbench/busybox:latest >/dev/null 2>&1 || true
fi
cat "$work"/*.md
