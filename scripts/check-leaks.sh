#!/usr/bin/env bash
# Fails when anything stack made outlived `stack down` / the test suite: a
# cgroup under stack/, a process inside one, an overlay mount of ours.
#
#   check-leaks.sh --snapshot FILE   record what exists now (before the tests)
#   check-leaks.sh [FILE]            fail on anything not in FILE
# Without a snapshot every stack cgroup and overlay mount counts: on a CI
# machine nothing of stack's may exist before or after the suite.
set -uo pipefail

current() {
  find /sys/fs/cgroup -type d \( -path '*/stack' -o -path '*/stack/*' \) 2>/dev/null \
    | sed 's/^/cgroup /'
  awk '$9=="overlay" && $5 ~ /(stack|busybox|it\/)/ {print "mount " $5}' /proc/self/mountinfo
}

if [ "${1:-}" = "--snapshot" ]; then
  current | sort > "$2"
  exit 0
fi
base=${1:-/dev/null}
left=$(comm -13 "$base" <(current | sort))
if [ -n "$left" ]; then
  echo "$left" | sed 's/^/leak: /'
  # Processes still inside a leaked cgroup.
  echo "$left" | awk '$1=="cgroup"{print $2}' | while read -r d; do
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
      echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | cut -c1-80)"
    done
  done
  echo "check-leaks: something stack made was left behind" >&2
  exit 1
fi
echo "check-leaks: nothing left behind"
