#!/usr/bin/env bash
# Two stack binaries side by side in one hyperfine run per scenario: a
# change's before and after (issue 10 measured its refactor with it).
#
#   sudo BEFORE=/path/to/old/stack AFTER=target/release/stack benches/compare.sh
#   RUNS=20 ... benches/compare.sh          # needs: hyperfine busybox-static
#
# Scenarios: one /bin/true job (up, foreground); up -d of 10 and 50
# containers from nothing; down of 50; a no-op up -d on a converged 50;
# up -d after one service of 50 changed (one recreate).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
. "$here/benches/lib.sh"
BEFORE=$(realpath "${BEFORE:?set BEFORE to the old binary}")
AFTER=$(realpath "${AFTER:-$here/target/release/stack}")
work=${BENCH_DIR:-/tmp/stack-bench-compare}
runs=${RUNS:-30}
export STACK_STATE_DIR=$work/state STACK_RUN_DIR=$work/run

rm -rf "$work"; mkdir -p "$work"
rootfs=$work/rootfs
busybox_rootfs "$rootfs"

stackfile() { # file count command [colour of s1]
  { echo "services:"
    for i in $(seq 1 "$2"); do
      printf '  s%s:\n    rootfs: %s\n    command: %s\n' "$i" "$rootfs" "$3"
      if [ "$i" = 1 ] && [ -n "${4:-}" ]; then printf '    environment: { COLOUR: %s }\n' "$4"; fi
    done
  } > "$work/$1"
}
stackfile true.yaml 1 /bin/true
stackfile s10.yaml 10 "sleep 3600"
stackfile s50.yaml 50 "sleep 3600"
stackfile red.yaml 50 "sleep 3600" red
stackfile blue.yaml 50 "sleep 3600" blue
cd "$work"
down() { "$BEFORE" -f "$1" -p "$2" down -t 0 >/dev/null 2>&1 || true; }
trap 'for p in bt at b10 a10 b50 a50 bd ad br ar; do down s50.yaml $p; done' EXIT

echo "## one /bin/true job: up (foreground)"
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/true.md" \
  --prepare "$BEFORE -f true.yaml -p bt down -t 0" --prepare "$AFTER -f true.yaml -p at down -t 0" \
  -n before "$BEFORE -f true.yaml -p bt up" -n after "$AFTER -f true.yaml -p at up"

for n in 10 50; do
  echo "## up -d of $n containers from nothing"
  hyperfine -N --runs "$runs" --export-markdown "$work/up$n.md" \
    --prepare "$BEFORE -f s$n.yaml -p b$n down -t 0" --prepare "$AFTER -f s$n.yaml -p a$n down -t 0" \
    -n before "$BEFORE -f s$n.yaml -p b$n up -d" -n after "$AFTER -f s$n.yaml -p a$n up -d"
  down "s$n.yaml" "b$n"; down "s$n.yaml" "a$n"
done

echo "## down of 50 containers"
hyperfine -N --runs "$runs" --export-markdown "$work/down50.md" \
  --prepare "$BEFORE -f s50.yaml -p bd up -d" --prepare "$AFTER -f s50.yaml -p ad up -d" \
  -n before "$BEFORE -f s50.yaml -p bd down -t 0" -n after "$AFTER -f s50.yaml -p ad down -t 0"

echo "## no-op up -d on a converged 50-service stack"
cp red.yaml br.yaml; cp red.yaml ar.yaml
"$BEFORE" -f br.yaml -p br up -d >/dev/null; "$AFTER" -f ar.yaml -p ar up -d >/dev/null
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/noop.md" \
  -n before "$BEFORE -f br.yaml -p br up -d" -n after "$AFTER -f ar.yaml -p ar up -d"

echo "## up -d after one service of 50 changed (one recreate)"
# Each run flips the colour, so every timed up recreates exactly one.
flip() { if grep -q red "$1"; then cp blue.yaml "$1"; else cp red.yaml "$1"; fi; }
export -f flip; export work
hyperfine -N --runs "$runs" --export-markdown "$work/change.md" \
  --prepare "bash -c 'cd $work && flip br.yaml'" --prepare "bash -c 'cd $work && flip ar.yaml'" \
  -n before "$BEFORE -f br.yaml -p br up -d" -n after "$AFTER -f ar.yaml -p ar up -d"
down br.yaml br; down ar.yaml ar
cat "$work"/{true,up10,up50,down50,noop,change}.md
