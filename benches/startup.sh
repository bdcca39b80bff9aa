#!/usr/bin/env bash
# Whole-command start-up benchmark: stack against what users would pick
# instead, side by side in one hyperfine run.
#
#   sudo benches/startup.sh            # needs: hyperfine crun runc busybox-static
#   STACK=target/release/stack benches/startup.sh
#   ONLY=clone3 benches/startup.sh     # only clone3(CLONE_INTO_CGROUP) vs clone
#   scripts/v2-guest.sh env ONLY=clone3 COMPOSE=0 benches/startup.sh   # on pure v2
#   ONLY=network benches/startup.sh    # the default network against none, and Compose's bridge
#
# Docker Compose is included (unless COMPOSE=0) when `docker` and `docker-compose` (or
# `docker compose`) work; the image is a `docker import` of the same busybox
# rootfs, so no registry is involved.
#
# crun refuses hybrid cgroup machines (v1 + a v2 mount with controllers), so
# every command runs inside one private mount namespace where the v2 mount
# is hidden; stack, runc and unshare see the same v1 hierarchy there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
. "$here/benches/lib.sh"
STACK=$(realpath "${STACK:-$here/target/release/stack}")
work=${BENCH_DIR:-/tmp/stack-bench}
runs=${RUNS:-30}
export STACK_STATE_DIR=$work/state STACK_RUN_DIR=$work/run

rm -rf "$work"; mkdir -p "$work"
# A busybox rootfs, as the tests build it.
rootfs=$work/rootfs
busybox_rootfs "$rootfs"

# Stack files: one /bin/true job, and N long-running services.
stackfile() { # name count command
  local f=$work/$1.yaml
  echo "services:" > "$f"
  for i in $(seq 1 "$2"); do
    printf '  s%s:\n    rootfs: %s\n    command: %s\n' "$i" "$rootfs" "$3" >> "$f"
  done
  echo "$f"
}
true1=$(stackfile true1 1 /bin/true)
# The same job without the seccomp filter: the filter's cost is the gap.
true1u=$(stackfile true1u 1 /bin/true)
echo '    security_opt: [seccomp=unconfined]' >> "$true1u"
for n in 1 10 50; do stackfile sleep$n "$n" "sleep 3600" >/dev/null; done
# The same without a network (loopback only): the network's cost is the gap.
true1n=$(stackfile true1n 1 /bin/true)
echo '    network_mode: none' >> "$true1n"
sleep50n=$(stackfile sleep50n 50 "sleep 3600")
sed -i 's|^    command: sleep 3600$|&\n    network_mode: none|' "$sleep50n"

# One OCI bundle for crun and runc.
mkdir -p "$work/oci"
(cd "$work/oci" && crun spec)
python3 - "$work/oci/config.json" "$rootfs" <<'PY'
import json, sys
p, root = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["root"] = {"path": root, "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"))
PY

# COMPOSE=0 leaves Docker Compose out (quicker while iterating).
compose=$(compose_cmd)
if [ -n "$compose" ]; then
  tar -C "$rootfs" -c . | docker import - stackbench/busybox:latest >/dev/null
  for n in 1 10 50; do
    mkdir -p "$work/compose$n"
    { echo "services:"; for i in $(seq 1 $n); do
        printf '  s%s:\n    image: stackbench/busybox\n    command: sleep 3600\n    network_mode: none\n' "$i"; done
    } > "$work/compose$n/docker-compose.yml"
  done
  # Compose's default: every service on the project's bridge network.
  mkdir -p "$work/composebridge50"
  { echo "services:"; for i in $(seq 1 50); do
      printf '  s%s:\n    image: stackbench/busybox\n    command: sleep 3600\n' "$i"; done
  } > "$work/composebridge50/docker-compose.yml"
  mkdir -p "$work/composetrue"
  printf 'services:\n  s1:\n    image: stackbench/busybox\n    command: /bin/true\n    network_mode: none\n' \
    > "$work/composetrue/docker-compose.yml"
fi

cat > "$work/inner.sh" <<INNER
set -eu
umount /sys/fs/cgroup/unified 2>/dev/null || true
cd "$work"
export STACK_STATE_DIR=$STACK_STATE_DIR STACK_RUN_DIR=$STACK_RUN_DIR
# The same starts with the kernel placing each container in its cgroup at
# clone (the default where it can) and with clone + a cgroup.procs write.
echo "## clone3(CLONE_INTO_CGROUP) against clone + cgroup.procs write"
hyperfine -N --warmup 3 --runs $runs --export-markdown $work/clone3.md \
  --prepare "$STACK -f $true1 -p benchc3 down -t 0" \
  --prepare "$STACK -f $true1 -p benchc3 down -t 0" \
  -n "up, /bin/true, clone3" "env STACK_CLONE_INTO_CGROUP=1 $STACK -f $true1 -p benchc3 up" \
  -n "up, /bin/true, clone" "env STACK_CLONE_INTO_CGROUP=0 $STACK -f $true1 -p benchc3 up" 2>&1
$STACK -f $true1 -p benchc3 down -t 0 >/dev/null 2>&1
hyperfine -N --runs $runs --export-markdown $work/clone3-10.md \
  --prepare "$STACK -f $work/sleep10.yaml -p benchc3 down -t 0" \
  --prepare "$STACK -f $work/sleep10.yaml -p benchc3 down -t 0" \
  --cleanup "$STACK -f $work/sleep10.yaml -p benchc3 down -t 0" \
  -n "up -d, 10 containers, clone3" "env STACK_CLONE_INTO_CGROUP=1 $STACK -f $work/sleep10.yaml -p benchc3 up -d" \
  -n "up -d, 10 containers, clone" "env STACK_CLONE_INTO_CGROUP=0 $STACK -f $work/sleep10.yaml -p benchc3 up -d" 2>&1
[ "${ONLY:-}" = clone3 ] && exit 0
echo "## the network: one /bin/true job and 50 containers, default network against none"
hyperfine -N --warmup 3 --runs $runs --export-markdown $work/net-true.md \
  --prepare "$STACK -f $true1 -p benchnet1 down -t 0" --prepare "$STACK -f $true1n -p benchnet1n down -t 0" \
  -n "up, /bin/true, default network" "$STACK -f $true1 -p benchnet1 up" \
  -n "up, /bin/true, network_mode none" "$STACK -f $true1n -p benchnet1n up" 2>&1
$STACK -f $true1 -p benchnet1 down -t 0 >/dev/null 2>&1; $STACK -f $true1n -p benchnet1n down -t 0 >/dev/null 2>&1
hyperfine -N --runs $runs --export-markdown $work/net-up50.md \
  --prepare "$STACK -f $work/sleep50.yaml -p benchnet50 down -t 0" \
  --prepare "$STACK -f $sleep50n -p benchnet50n down -t 0" \
  -n "up -d, 50 containers, default network" "$STACK -f $work/sleep50.yaml -p benchnet50 up -d" \
  -n "up -d, 50 containers, network_mode none" "$STACK -f $sleep50n -p benchnet50n up -d" 2>&1
$STACK -f $work/sleep50.yaml -p benchnet50 down -t 0 >/dev/null 2>&1; $STACK -f $sleep50n -p benchnet50n down -t 0 >/dev/null 2>&1
hyperfine -N --runs $runs --export-markdown $work/net-down50.md \
  --prepare "$STACK -f $work/sleep50.yaml -p benchnet50 up -d" \
  --prepare "$STACK -f $sleep50n -p benchnet50n up -d" \
  -n "down, 50 containers, default network" "$STACK -f $work/sleep50.yaml -p benchnet50 down -t 0" \
  -n "down, 50 containers, network_mode none" "$STACK -f $sleep50n -p benchnet50n down -t 0" 2>&1
if [ -n "$compose" ]; then
  echo "## 50 containers with $compose on its default bridge network: up -d, down"
  hyperfine --runs 3 --export-markdown $work/net-compose50.md \
    --prepare "cd $work/composebridge50 && $compose down -t 0 >/dev/null 2>&1" \
    --cleanup "cd $work/composebridge50 && $compose down -t 0 >/dev/null 2>&1" \
    "cd $work/composebridge50 && $compose up -d >/dev/null 2>&1" 2>&1
  hyperfine --runs 3 --export-markdown $work/net-compose50-down.md \
    --prepare "cd $work/composebridge50 && $compose up -d >/dev/null 2>&1" \
    "cd $work/composebridge50 && $compose down -t 0 >/dev/null 2>&1" 2>&1
fi
[ "${ONLY:-}" = network ] && exit 0
echo "## one container running /bin/true"
cmds=(
  "unshare --mount --uts --ipc --net --pid --fork --root=$rootfs --mount-proc /bin/true"
  "$STACK -f $true1 -p benchtrue up"
  "$STACK -f $true1u -p benchtrueu up"
  "crun run -b $work/oci bench-crun"
  "runc run -b $work/oci bench-runc"
)
[ -n "$compose" ] && cmds+=("cd $work/composetrue && $compose up --quiet-pull >/dev/null 2>&1; $compose down >/dev/null 2>&1")
# A finished job is not run again by the next \`up\`: \`down\` before each stack run.
hyperfine -N --warmup 3 --runs $runs --export-markdown $work/true.md \\
  --prepare true --prepare "$STACK -f $true1 -p benchtrue down -t 0" \\
  --prepare "$STACK -f $true1u -p benchtrueu down -t 0" --prepare true --prepare true \\
  "\${cmds[@]:0:5}" 2>&1
$STACK -f $true1 -p benchtrue down -t 0 >/dev/null 2>&1
$STACK -f $true1u -p benchtrueu down -t 0 >/dev/null 2>&1
[ -n "$compose" ] && hyperfine --runs 5 --export-markdown $work/compose-true.md "\${cmds[5]}" 2>&1
for n in 1 10 50; do
  echo "## \$n busybox containers: up -d"
  # --prepare, not --cleanup (which runs once, after all runs): every
  # timed \`up -d\` starts from nothing.
  hyperfine -N --runs $runs --export-markdown $work/up\$n.md \
    --prepare "$STACK -f $work/sleep\$n.yaml -p bench\$n down -t 0" \
    --cleanup "$STACK -f $work/sleep\$n.yaml -p bench\$n down -t 0" \
    "$STACK -f $work/sleep\$n.yaml -p bench\$n up -d" 2>&1
  echo "## \$n busybox containers: down"
  hyperfine -N --runs $runs --export-markdown $work/down\$n.md \
    --prepare "$STACK -f $work/sleep\$n.yaml -p bench\$n up -d" \
    "$STACK -f $work/sleep\$n.yaml -p bench\$n down -t 0" 2>&1
  if [ -n "$compose" ]; then
    echo "## \$n containers with $compose: up -d, then down"
    hyperfine --runs 3 --export-markdown $work/compose\$n.md \
      --prepare "cd $work/compose\$n && $compose down -t 0 >/dev/null 2>&1" \
      --cleanup "cd $work/compose\$n && $compose down -t 0 >/dev/null 2>&1" \
      "cd $work/compose\$n && $compose up -d >/dev/null 2>&1" 2>&1
  fi
done
INNER
unshare -m --propagation private bash "$work/inner.sh"
if [ -n "$compose" ]; then docker image rm stackbench/busybox:latest >/dev/null 2>&1 || true; fi
echo "markdown tables in $work/*.md"
