#!/usr/bin/env bash
# Runs stack's whole test suite on a fresh Debian/Ubuntu machine, as root.
# Installs the Debian packages the tests need first (busybox-static for the
# test root filesystem), then runs every test; root integration tests run
# the real binary on real namespaces, mounts and cgroups.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in busybox-static python3 iproute2 nftables gcc libc6-dev docker-registry apache2-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# What of stack's exists before the suite (nothing, on a CI machine) is not
# the suite's to clean up; anything new afterwards is a leak.
before=$(mktemp)
trap 'rm -f "$before"' EXIT
scripts/check-leaks.sh --snapshot "$before"
mkdir -p target
cargo test --locked "$@" 2>&1 | tee target/test-host.log
scripts/check-leaks.sh "$before"
# Tests named *_v1_only / *_v2_only make sense on one cgroup version; on the
# other they pass without checking anything.
v1only=$(grep -cE '^test [^ ]*v1_only[^ ]* \.\.\. ok$' target/test-host.log || true)
v2only=$(grep -cE '^test [^ ]*v2_only[^ ]* \.\.\. ok$' target/test-host.log || true)
ver=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && ver=v2
echo "host, cgroup $ver: version-only tests passed: $v1only v1-only, $v2only v2-only (those not for $ver had nothing to check)"

# The same suite again on a pure cgroup v2 kernel: the test binaries just
# built, run in a throwaway QEMU guest (scripts/test-v2.sh). TEST_V2=0 skips it.
if [ "${TEST_V2:-1}" != 0 ]; then
  scripts/test-v2.sh "$@"
fi
