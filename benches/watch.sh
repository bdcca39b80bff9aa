#!/usr/bin/env bash
# Watch mode benchmark (root):
#  1. latency from a save of the stack file to the changed container
#     running, N times (default 20): the save's wall clock time vs the
#     supervisor's `started` event (from `stack events --format json`),
#     debounce included. Target: under 150 ms.
#  2. the supervisor's CPU use while it watches an idle stack for IDLE
#     seconds (default 30), from utime+stime in /proc/<pid>/stat.
#     Target: nothing measurable (0 ticks).
#
# Usage: cargo build --release && sudo benches/watch.sh
#   STACK_BIN=target/release/stack N=20 IDLE=30 STACK_WATCH_DEBOUNCE_MS=100
set -euo pipefail

BIN=$(realpath "${STACK_BIN:-target/release/stack}")
N=${N:-20}
IDLE=${IDLE:-30}
[ "$(id -u)" = 0 ] || { echo "watch.sh: needs root" >&2; exit 1; }
[ -x "$BIN" ] || { echo "watch.sh: no binary at $BIN (cargo build --release)" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "watch.sh: needs busybox (apt-get install busybox-static)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/stack-watch-bench.XXXXXX)
export STACK_STATE_DIR=$WORK/state STACK_RUN_DIR=$WORK/run
P=watchbench
EVENTS_PID=
cleanup() {
    [ -n "$EVENTS_PID" ] && kill "$EVENTS_PID" 2>/dev/null || true
    (cd "$WORK" && "$BIN" -p $P down -t 1 >/dev/null 2>&1) || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# A minimal rootfs: static busybox and the applets we use.
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev" "$WORK/rootfs/tmp" "$WORK/rootfs/etc"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in sh sleep env; do ln -s busybox "$WORK/rootfs/bin/$a"; done

prepare() { # COLOR: the next content, in a temp file
    cat >"$WORK/stack.yaml.tmp" <<EOF
services:
  web:
    rootfs: $WORK/rootfs
    command: ["sleep", "100000"]
    environment: { COLOR: "$1" }
    stop_grace_period: 1s
  db:
    rootfs: $WORK/rootfs
    command: ["sleep", "100000"]
EOF
}
save() { mv "$WORK/stack.yaml.tmp" "$WORK/stack.yaml"; } # renamed over: an atomic save

cd "$WORK"
prepare c0
save
"$BIN" -p $P up -d --watch >/dev/null
"$BIN" -p $P events --format json >"$WORK/events.jsonl" &
EVENTS_PID=$!
sleep 0.5 # the subscription is in place

started_count() { grep -c '"service":"web","kind":"started"' "$WORK/events.jsonl" || true; }

lat=()
for i in $(seq 1 "$N"); do
    before=$(started_count)
    prepare "c$i"
    t0=$(date +%s%3N)
    save
    deadline=$(( $(date +%s) + 20 ))
    while [ "$(started_count)" -le "$before" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "watch.sh: save $i was not applied within 20 s" >&2; exit 1; }
        sleep 0.002
    done
    t1=$(grep '"service":"web","kind":"started"' "$WORK/events.jsonl" | tail -1 | grep -o '"time":[0-9]*' | cut -d: -f2)
    lat+=($((t1 - t0)))
    sleep 0.3 # let the stack settle between saves
done
sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
pick() { echo "$sorted" | sed -n "$1p"; }
mean=$(( $(printf '%s+' "${lat[@]}")0 ))
echo "save -> changed container running (ms), N=$N, debounce ${STACK_WATCH_DEBOUNCE_MS:-100} ms:"
echo "  min $(pick 1)  median $(pick $(( (N + 1) / 2 )))  p95 $(pick $(( (N * 95 + 99) / 100 )))  max $(pick "$N")  mean $((mean / N))"
echo "  all: ${lat[*]}"

kill "$EVENTS_PID" 2>/dev/null || true
wait "$EVENTS_PID" 2>/dev/null || true
EVENTS_PID=
SUP=$(awk '{ print $1 }' "$STACK_RUN_DIR/$P/supervisor.pid")
ticks() { awk '{ print $14 + $15 }' "/proc/$SUP/stat"; }
sleep 1
a=$(ticks)
sleep "$IDLE"
b=$(ticks)
hz=$(getconf CLK_TCK)
echo "supervisor (pid $SUP) CPU while watching an idle stack for ${IDLE} s: $((b - a)) ticks ($(( (b - a) * 1000 / hz )) ms; 1 tick = $((1000 / hz)) ms)"
