#!/usr/bin/env bash
# Fails when anything stack made outlived `stack down` / the test suite: a
# cgroup (under stack/, or any new one a test made), a process inside one,
# an overlay mount of ours, a network link (`stk*`), a network namespace
# (`stk*`), an nftables table (`stack-*`, `stacktest-*`), a rule of ours in
# Docker's DOCKER-USER chain, a project resolver process (`stack __dns`),
# a test registry (`docker-registry serve`),
# a network record (`<state root>/networks/*.json`).
#
#   check-leaks.sh --snapshot FILE   record what exists now (before the tests)
#   check-leaks.sh [FILE]            fail on anything not in FILE
# Without a snapshot every stack cgroup (and every `stack-*` one the tests
# make) and overlay mount counts: on a CI
# machine nothing of stack's may exist before or after the suite. With one,
# every cgroup that is new counts too, whatever its name (a test may make
# its own, like stack-rt-test-<pid>), except in the trees other managers on
# the machine create and remove as they go.
set -uo pipefail

ours() {
  find /sys/fs/cgroup -type d \( -path '*/stack' -o -path '*/stack/*' \) 2>/dev/null \
    | sed 's/^/cgroup /'
  # The tests' own throwaway cgroups (stack-rt-test-<pid>, stack-devtest-…).
  find /sys/fs/cgroup -type d -name 'stack-*' 2>/dev/null | sed 's/^/cgroup /'
  awk '$9=="overlay" && $5 ~ /(stack|busybox|it\/)/ {print "mount " $5}' /proc/self/mountinfo
  # Networking: links and namespaces named stk*, our nftables tables, our
  # rules (comment "stack:<project>") in Docker's DOCKER-USER chain.
  ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' \
    | grep -E '^stk' | sed 's/^/link /'
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^stk' | sed 's/^/netns /'
  if command -v nft >/dev/null; then
    nft list tables 2>/dev/null | awk '$3 ~ /^stack(test)?-/ {print "nft-table " $2 " " $3}'
    nft list chain ip filter DOCKER-USER 2>/dev/null \
      | grep -o 'comment "stack:[^"]*"' | sed 's/^/docker-user /'
  fi
  # Resolver helpers: their argv[1] is `__dns`.
  for f in /proc/[0-9]*/cmdline; do
    # A process may end while we look: its file is gone, say nothing.
    arg1=$({ tr '\0' '\n' < "$f"; } 2>/dev/null | sed -n 2p)
    if [ "$arg1" = "__dns" ]; then
      pid=${f#/proc/}; pid=${pid%/cmdline}
      echo "resolver $pid $({ tr '\0' ' ' < "$f"; } 2>/dev/null | cut -c1-100)"
    fi
    # The tests' registries (docker-registry serve <temp config>).
    arg0=$({ tr '\0' '\n' < "$f"; } 2>/dev/null | sed -n 1p)
    if [ "${arg0##*/}" = "docker-registry" ] && [ "$arg1" = "serve" ]; then
      pid=${f#/proc/}; pid=${pid%/cmdline}
      echo "registry $pid $({ tr '\0' ' ' < "$f"; } 2>/dev/null | cut -c1-100)"
    fi
  done
  ls "${STACK_STATE_DIR:-/var/lib/stack}"/networks/*.json 2>/dev/null | sed 's/^/network-record /'
}

any_cgroup() {
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null \
    | grep -v -E '/(process_api|docker|system\.slice|user\.slice|init\.scope|machine\.slice)(/|$)' \
    | grep -v -E '/stack(/|$)' | sed 's/^/cgroup /'
}

if [ "${1:-}" = "--snapshot" ]; then
  { ours; any_cgroup; } | sort -u > "$2"
  exit 0
fi
if [ -n "${1:-}" ]; then
  base=$1
  now=$({ ours; any_cgroup; } | sort -u)
else
  base=/dev/null
  now=$(ours | sort -u)
fi
left=$(comm -13 "$base" <(echo "$now" | sed '/^$/d'))
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
