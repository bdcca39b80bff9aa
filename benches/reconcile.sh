#!/usr/bin/env bash
# Reconcile benchmark (issue 4): a no-op `up -d` on a converged 50-service
# stack, and `up -d` after changing one service of 50 (only that one is
# recreated). Whole commands, timed with hyperfine.
#
#   sudo benches/reconcile.sh          # needs: hyperfine busybox-static
#   STACK=target/release/stack RUNS=20 benches/reconcile.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
. "$here/benches/lib.sh"
STACK=$(realpath "${STACK:-$here/target/release/stack}")
work=${BENCH_DIR:-/tmp/stack-bench-reconcile}
runs=${RUNS:-30}
export STACK_STATE_DIR=$work/state STACK_RUN_DIR=$work/run

rm -rf "$work"; mkdir -p "$work"
rootfs=$work/rootfs
busybox_rootfs "$rootfs"

gen() { # file colour-of-s1
  { echo "services:"
    for i in $(seq 1 50); do
      printf '  s%s:\n    rootfs: %s\n    command: sleep 3600\n' "$i" "$rootfs"
      if [ "$i" = 1 ]; then printf '    environment: { COLOUR: %s }\n' "$2"; fi
    done
  } > "$1"
}
gen "$work/red.yaml" red
gen "$work/blue.yaml" blue
cp "$work/red.yaml" "$work/stack.yaml"
cd "$work"
"$STACK" -p recon up -d >/dev/null
trap '"$STACK" -p recon down -t 0 >/dev/null' EXIT

echo "## no-op up -d on a converged 50-service stack"
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/noop.md" \
  "$STACK -p recon up -d"
echo "## up -d after changing one service of 50 (alternating red/blue)"
hyperfine --runs "$runs" --export-markdown "$work/one.md" \
  --prepare "if cmp -s stack.yaml red.yaml; then cp blue.yaml stack.yaml; else cp red.yaml stack.yaml; fi" \
  "$STACK -p recon up -d"
echo "## the plan for such a change"
cp blue.yaml stack.yaml; "$STACK" -p recon up -d >/dev/null
cp red.yaml stack.yaml; "$STACK" -p recon plan
echo "markdown tables in $work/*.md"
