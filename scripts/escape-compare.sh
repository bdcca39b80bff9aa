#!/usr/bin/env bash
# Docker and stack side by side: the escape probe (tests/escape/probe.c)
# with Docker's defaults (`docker run`, root and --user nobody) and in a
# default stack container (`stack exec`, root and user: nobody), then the
# CVE-2019-5736 exec path (tests/escape/evil.c) through `docker exec` and
# `stack exec`. Prints a markdown table: attempt, docker, stack.
#
# Needs root, gcc with static glibc (libc6-dev), busybox-static, a running
# Docker engine, and a built stack (STACK=path, default target/debug/stack,
# built when missing; STACK_REV=commit labels a binary built elsewhere).
# Nothing is pulled: the image is `docker import`ed
# from a local tarball. The image, every container, the stack project and
# the host key and process it makes are removed at the end, by id.
#
# Usage: scripts/escape-compare.sh [> table.md]
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=${STACK:-target/debug/stack}
[ -x "$STACK" ] || cargo build --quiet
STACK=$(realpath "$STACK")
BUSYBOX=$(command -v busybox || true)
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && BUSYBOX=$b; done
[ -n "$BUSYBOX" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
RUNC=$(command -v runc || true)

work=$(mktemp -d /tmp/escape-compare.XXXXXX)
image=""
cids=()
sleeper=""
key=""
project="esc-compare-$$"
cleanup() {
  set +e
  for c in "${cids[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  for f in "$work"/cid.*; do
    [ -s "$f" ] && docker rm -f "$(cat "$f")" >/dev/null 2>&1
  done
  [ -n "$image" ] && docker rmi -f "$image" >/dev/null 2>&1
  if [ -f "$work/proj/stack.yaml" ]; then
    (cd "$work/proj" && STACK_STATE_DIR="$work/state" STACK_RUN_DIR="$work/run" \
      "$STACK" -p "$project" down -v -t 1 >/dev/null 2>&1)
  fi
  [ -n "$sleeper" ] && { kill -KILL "$sleeper"; wait "$sleeper"; } 2>/dev/null
  [ -n "$key" ] && "$work/probe" host-key-remove "$key"
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# --- the probe, the payload and a root filesystem -------------------------
cc -static -O1 -pthread -o "$work/probe" tests/escape/probe.c
cc -shared -fPIC -O1 -o "$work/evil.so" tests/escape/evil.c
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,home,mnt}
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf /bin/busybox "$root/bin/$a"
done
cp "$work/probe" "$root/probe"
cp "$work/evil.so" "$root/evil.so"
printf '#!/proc/self/exe\n' > "$root/evil"
chmod 755 "$root/evil"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
# What an attacker's image brings so that /proc/self/exe (stack, or runc)
# can run in it: the dynamic loader and the libraries.
for bin in "$STACK" ${RUNC:+"$RUNC"}; do
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
tar -C "$root" -cf "$work/rootfs.tar" .

# --- the host's bait: a stopped process and a key in root's @u ------------
sleep 1000 &
sleeper=$!
kill -STOP "$sleeper"
secret="stack-escape-compare-secret-$$"
key=$("$work/probe" host-key-add "stack-escape-test-$$" "$secret")
args=(--host-pid="$sleeper" --key="stack-escape-test-$$" --key-id="$key")

# --- Docker ----------------------------------------------------------------
image=$(docker import "$work/rootfs.tar")
n=0
docker_probe() { # out-file docker-run-args...
  local out=$1; shift
  n=$((n + 1))
  docker run --rm --cidfile "$work/cid.$n" "$@" "$image" /probe "${args[@]}" all \
    > "$out" 2>&1 || true
}
docker_probe "$work/docker.root"
docker_probe "$work/docker.nobody" --user nobody
docker_exec_path() { # out-file user
  local out=$1 user=$2 c
  c=$(docker run -d --user "$user" "$image" sleep 1000)
  cids+=("$c")
  docker exec -e LD_PRELOAD=/evil.so -e EVIL_LOG=/tmp/evil.log "$c" /evil >/dev/null 2>&1 || true
  for _ in $(seq 50); do
    docker exec "$c" cat /tmp/evil.log 2>/dev/null | grep -q DONE && break
    sleep 0.1
  done
  docker exec "$c" cat /tmp/evil.log > "$out" 2>&1 || true
  docker exec "$c" /probe exec-self >> "$out" 2>&1 || true
  docker rm -f "$c" >/dev/null
}
docker_exec_path "$work/docker.exec.root" root
docker_exec_path "$work/docker.exec.nobody" nobody

# --- stack -----------------------------------------------------------------
mkdir -p "$work/proj"
cat > "$work/proj/stack.yaml" <<EOF
services:
  root:
    rootfs: $root
    command: ["sleep", "1000"]
    restart: "no"
  nobody:
    rootfs: $root
    command: ["sleep", "1000"]
    user: nobody
    restart: "no"
EOF
st() { (cd "$work/proj" && STACK_STATE_DIR="$work/state" STACK_RUN_DIR="$work/run" \
  "$STACK" -p "$project" "$@"); }
st up -d >/dev/null
st exec -T root /probe "${args[@]}" all > "$work/stack.root" 2>&1 || true
st exec -T nobody /probe "${args[@]}" all > "$work/stack.nobody" 2>&1 || true
stack_exec_path() { # out-file service
  local out=$1 svc=$2
  st exec -T -e LD_PRELOAD=/evil.so -e EVIL_LOG=/tmp/evil.log "$svc" /evil >/dev/null 2>&1 || true
  for _ in $(seq 50); do
    st exec -T "$svc" cat /tmp/evil.log 2>/dev/null | grep -q DONE && break
    sleep 0.1
  done
  st exec -T "$svc" cat /tmp/evil.log > "$out" 2>&1 || true
  st exec -T "$svc" /probe exec-self >> "$out" 2>&1 || true
}
stack_exec_path "$work/stack.exec.root" root
stack_exec_path "$work/stack.exec.nobody" nobody
st down -v -t 1 >/dev/null 2>&1

# The host's bait afterwards.
state=$(awk '{print $3}' "/proc/$sleeper/stat" 2>/dev/null || echo gone)

# --- the table -------------------------------------------------------------
# The exec path's log lines become rows too: exec-exe, exec-write, exec-reopen.
exec_rows() { # log-file -> "name verdict detail" lines
  awk '
    /^EXE /        { sub(/^EXE /, ""); print "exec-exe IS " $0; next }
    /^WRITE reopen/ { $1 = ""; $2 = ""; sub(/^  /, ""); print "exec-reopen " $0; next }
    /^WRITE O_/    { w = w " " $2 ":" $3 " " $4; if ($3 != "BLOCKED") bad = 1; next }
    /^exec-self/   { print; next }
    END { if (w != "") print "exec-write " (bad ? "OPEN" : "BLOCKED") w }
  ' "$1"
}
for f in docker.root docker.nobody stack.root stack.nobody; do
  grep -E '^[a-z0-9-]+ (BLOCKED|OPEN|WORKS|BROKEN|SKIP) ?' "$work/$f" > "$work/$f.rows" || true
done
for who in docker stack; do
  for u in root nobody; do
    exec_rows "$work/$who.exec.$u" >> "$work/$who.$u.rows"
  done
done
# Every name in the order first seen (the probe's list, then sub-attempts).
{ "$work/probe" list | awk '{print $1}'
  cat "$work"/*.rows | awk '{print $1}'; } | awk '!seen[$0]++' > "$work/names"

cell() { # rows-file name
  awk -v n="$2" '
    $1 == n {
      v = $2; $1 = ""; $2 = ""; d = substr($0, 3)
      # a refusal shows its (last) errno, anything else a short detail
      e = ""
      k = split(d, w, " ")
      for (i = 1; i <= k; i++) {
        t = w[i]; gsub(/^[(]|[,);:]+$/, "", t)
        if (t ~ /^E[A-Z0-9]+$/) e = t
      }
      if (v == "BLOCKED" && e != "") d = e
      else if (length(d) > 48) d = substr(d, 1, 45) "..."
      gsub(/\|/, "/", d)
      print v (d != "" ? " " d : ""); found = 1; exit
    }
    END { if (!found) print "-" }
  ' "$1"
}
if [ -n "${STACK_REV:-}" ]; then
  rev=$STACK_REV
else
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- src 2>/dev/null || rev="$rev (+ uncommitted src changes)"
fi
echo "Measured $(date -u +%Y-%m-%d) on $(uname -r); Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), runc ${RUNC:+$("$RUNC" --version | head -1 | awk '{print $3}')}; stack at $rev."
echo "Host's stopped sleep after both runs: state $state (T = still stopped)."
echo
echo "| attempt | docker | stack | docker --user nobody | stack user: nobody |"
echo "|---|---|---|---|---|"
while read -r name; do
  printf '| %s | %s | %s | %s | %s |\n' "$name" \
    "$(cell "$work/docker.root.rows" "$name")" "$(cell "$work/stack.root.rows" "$name")" \
    "$(cell "$work/docker.nobody.rows" "$name")" "$(cell "$work/stack.nobody.rows" "$name")"
done < "$work/names"
if grep -q "$secret" "$work"/docker.* "$work"/stack.*; then
  echo
  echo "The host key's secret was read in:" $(grep -l "$secret" "$work"/docker.* "$work"/stack.* | xargs -n1 basename)
fi
