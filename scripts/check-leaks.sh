#!/usr/bin/env bash
# Fails when anything stack made outlived `stack down` / the test suite:
# a cgroup under stack/, a process inside one, an overlay mount of ours.
set -uo pipefail
left=0
while IFS= read -r d; do
  echo "leak: cgroup $d"
  for pid in $(cat "$d"/cgroup.procs 2>/dev/null); do
    echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | cut -c1-80)"
  done
  left=1
done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name stack 2>/dev/null; \
         find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type d -name stack 2>/dev/null)
while IFS= read -r m; do
  echo "leak: mount $m"
  left=1
done < <(awk '$9=="overlay" && $5 ~ /(stack|busybox)/ {print $5}' /proc/self/mountinfo)
if [ "$left" -ne 0 ]; then
  echo "check-leaks: something stack made was left behind" >&2
  exit 1
fi
echo "check-leaks: nothing left behind"
