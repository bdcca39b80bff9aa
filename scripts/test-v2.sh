#!/usr/bin/env bash
# Runs stack's whole test suite (unit and integration tests, as root) on a
# pure cgroup v2 kernel: builds the test binaries here, then runs them all in
# ONE throwaway QEMU guest (scripts/v2-guest.sh), then check-leaks.sh there.
#
#   scripts/test-v2.sh [CARGO-TEST-ARGS...] [-- TEST-BINARY-ARGS...]
#   e.g. scripts/test-v2.sh --test cgroup_lifecycle -- concurrent
#
# Logs: target/v2-guest/logs/<binary>.log and summary.txt.
#   V2_TEST_TIMEOUT  seconds per test binary in the guest (default 600)
#   V2_TEST_THREADS  --test-threads (default 2)
#   V2_GUEST_TIMEOUT the whole guest run (default 25m); see scripts/v2-guest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(git rev-parse --show-toplevel)
cd "$checkout"

cargo_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    cargo_args+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift

# The tests' root filesystem comes from the host's busybox-static (/usr is
# shared with the guest).
dpkg -s busybox-static >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static
}

t0=$SECONDS
# CARGO_BIN_EXE_stack: the tests run the real binary.
cargo build --locked --bins
json=$(mktemp)
trap 'rm -f "$json"' EXIT
cargo test --no-run --locked --message-format=json "${cargo_args[@]}" >"$json"

target=$(cargo metadata --no-deps --format-version 1 --locked |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
case "$target/" in
    "$checkout"/*) ;;
    *)
        echo "test-v2: the target dir $target is outside the checkout $checkout, which is all the guest sees" >&2
        exit 2
        ;;
esac
# CARGO_TARGET_TMPDIR (compiled into the tests) must be guest tmpfs.
[ "$target" = "$checkout/target" ] || export V2_GUEST_TMPFS="$target/tmp${V2_GUEST_TMPFS:+:$V2_GUEST_TMPFS}"
mkdir -p "$target/tmp"

# LABEL=EXECUTABLE for every test target (the profile's "test":true).
bins=()
while IFS=$'\t' read -r kind name exe; do
    case "$kind" in
        lib) label=unit-lib ;;
        bin) label=unit-bin-$name ;;
        test) label=$name ;;
        *) label=$kind-$name ;;
    esac
    # Tests of the file format and the file watcher touch no cgroup: the
    # host run covers them (and the guest's time goes to the root tests).
    case "$label" in spec_cli|spec_schema|watch_files) continue ;; esac
    bins+=("$label=$exe")
done < <(grep '"reason":"compiler-artifact"' "$json" |
    grep -E '"profile":\{[^}]*"test":true' |
    grep '"executable":"' |
    sed -E 's/.*"target":\{"kind":\["([^"]+)"\][^}]*"name":"([^"]+)".*"executable":"([^"]+)".*/\1\t\2\t\3/' |
    sort -t$'\t' -k1,1 -k2,2)
if [ ${#bins[@]} -eq 0 ]; then
    echo "test-v2: cargo built no test binary" >&2
    exit 1
fi
echo "test-v2: built ${#bins[@]} test binaries in $((SECONDS - t0))s; running them in a cgroup v2 guest"

logs=$target/v2-guest/logs
rm -rf "$logs"
t1=$SECONDS
rc=0
# Root in the guest: under CI=true no root test may skip.
CI=${CI:-true} scripts/v2-guest.sh scripts/v2-guest/run-tests.sh "$logs" "${bins[@]}" -- "$@" || rc=$?
if [ "$rc" -eq 124 ]; then
    # The guest ran out of time: what the binary it was running had printed.
    last=$(ls -t "$logs"/*.log 2>/dev/null | grep -v summary | head -n1 || true)
    if [ -n "$last" ]; then
        echo "test-v2: the last lines of ${last#"$checkout"/}:"
        tail -n 40 "$last" | sed 's/^/  | /'
    fi
fi
if [ "$rc" -eq 0 ]; then how=passed; else how="failed (exit $rc)"; fi
echo "test-v2: guest run $how in $((SECONDS - t1))s, $((SECONDS - t0))s in all; logs in ${logs#"$checkout"/}"
exit "$rc"
