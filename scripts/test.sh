#!/usr/bin/env bash
# Runs stack's whole test suite on a fresh Debian/Ubuntu machine, as root.
# Installs the Debian packages the tests need first (busybox-static for the
# test root filesystem), then runs every test; root integration tests run
# the real binary on real namespaces, mounts and cgroups.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in busybox-static iproute2 gcc libc6-dev; do
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
cargo test --locked "$@"
scripts/check-leaks.sh "$before"

# The same suite again on a pure cgroup v2 kernel: the test binaries just
# built, run in a throwaway QEMU guest (scripts/test-v2.sh). TEST_V2=0 skips it.
if [ "${TEST_V2:-1}" != 0 ]; then
  scripts/test-v2.sh "$@"
fi
