#!/usr/bin/env bash
# Runs inside the v2 guest (scripts/test-v2.sh starts it there): each test
# binary, built on the host, one after the other, then check-leaks.sh.
#
#   run-tests.sh LOGDIR LABEL=EXECUTABLE... [-- TEST-ARGS...]
#
# Prints a line per binary and a total; exits non-zero when a test failed, a
# binary crashed or hit its timeout, or something was left behind.
#   V2_TEST_TIMEOUT  seconds per binary (default 600)
#   V2_TEST_THREADS  --test-threads (default 2)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 125

logdir=$1
shift
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    bins+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
targs=("$@")
per=${V2_TEST_TIMEOUT:-600}
threads=${V2_TEST_THREADS:-2}
mkdir -p "$logdir"
summary=$logdir/summary.txt
: >"$summary"

# Every cgroup that exists before the suite (the guest's own), to find any a
# test left behind whatever its name.
cgroups() { find /sys/fs/cgroup -mindepth 1 -type d | sort; }
cg_before=$(mktemp)
cgroups >"$cg_before"

say() { echo "$*" | tee -a "$summary"; }
# Every process but the kernel's, init and this script's (in the guest
# nothing else runs).
others() {
    ps -eo pid=,ppid=,args= |
        awk -v self=$$ '$1 != 1 && $1 != 2 && $2 != 2 && $1 != self && $2 != self && !/ps -eo pid=|awk -v self=/'
}
line() { printf '%-24s %s\n' "$1" "$2" | tee -a "$summary" >/dev/null; }

pass=0 fail=0 ignored=0 nbins=0 badbins=0
failed_tests=()
t_all=$SECONDS
for spec in "${bins[@]}"; do
    label=${spec%%=*}
    exe=${spec#*=}
    nbins=$((nbins + 1))
    log=$logdir/$label.log
    echo "=== v2 guest: $label (timeout ${per}s, --test-threads=$threads)"
    t=$SECONDS
    # Into the log, not through a pipe: a process the binary started and
    # that outlived it (after a timeout) would hold a pipe open for ever.
    # The host prints the log if the guest itself runs out of time.
    timeout -k 10 "$per" "$exe" --test-threads="$threads" "${targs[@]}" >"$log" 2>&1
    rc=$?
    cat "$log"
    secs=$((SECONDS - t))
    res=$(grep -E '^test result: ' "$log" | tail -n1)
    p=$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$res")
    f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$res")
    i=$(sed -n 's/.* \([0-9]*\) ignored.*/\1/p' <<<"$res")
    pass=$((pass + ${p:-0}))
    fail=$((fail + ${f:-0}))
    ignored=$((ignored + ${i:-0}))
    while read -r name; do
        [ -n "$name" ] && failed_tests+=("$label::$name")
    done < <(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$log")
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && [ -z "$res" ]; then
        badbins=$((badbins + 1))
        # libtest names a test that runs over 60 s; those that never finished.
        running=$(sed -n 's/^test \(.*\) has been running for over 60 seconds$/\1/p' "$log" |
            while read -r n; do grep -qF "test $n ... " "$log" || printf '%s ' "$n"; done)
        line "$label" "TIMEOUT after ${per}s (V2_TEST_TIMEOUT); still running: ${running:-?}"
        # What it left running would disturb the binaries after it.
        echo "v2 guest: processes left by $label:"
        others | sed 's/^/  /'
        others | awk '{print $1}' | xargs -r kill -KILL 2>/dev/null
        failed_tests+=("$label: timed out")
    elif [ -z "$res" ]; then
        badbins=$((badbins + 1))
        line "$label" "CRASHED (exit $rc, no test result)"
        failed_tests+=("$label: exit $rc without a test result")
    else
        [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && {
            badbins=$((badbins + 1))
            failed_tests+=("$label: exit $rc")
        }
        line "$label" "${p:-0} passed, ${f:-0} failed, ${i:-0} ignored (${secs}s)"
    fi
done
secs_all=$((SECONDS - t_all))

echo "=== v2 guest: check-leaks"
leaks=0
scripts/check-leaks.sh 2>&1 | tee "$logdir/check-leaks.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || leaks=1
left=$(comm -13 "$cg_before" <(cgroups))
if [ -n "$left" ]; then
    leaks=1
    echo "v2 guest: cgroups left behind by the suite:"
    sed 's/^/  /' <<<"$left"
fi
# In the guest nothing else runs: any process but ours outlived its test.
if [ -e /run/v2-guest/src ]; then
    procs=$(others)
    [ -n "$procs" ] && { echo "v2 guest: processes still running after the suite:"; sed 's/^/  /' <<<"$procs"; }
fi
rm -f "$cg_before"

echo
echo "=== v2 guest summary (cgroup v2, $(uname -r), ${secs_all}s)"
cat "$summary"
if [ ${#failed_tests[@]} -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${failed_tests[@]}"
fi
[ "$leaks" -eq 0 ] || echo "check-leaks: something was left behind (see above)"
# Tests named *_v1_only / *_v2_only make sense on one version; on the
# other they pass without checking anything.
v1only=$(cat "$logdir"/*.log 2>/dev/null | grep -cE '^test [^ ]*v1_only[^ ]* \.\.\. ok$')
v2only=$(cat "$logdir"/*.log 2>/dev/null | grep -cE '^test [^ ]*v2_only[^ ]* \.\.\. ok$')
echo "version-only tests passed: $v1only v1-only (nothing to check on v2), $v2only v2-only" | tee -a "$summary"
total="v2 guest: $nbins binaries, $pass passed, $fail failed"
[ "$ignored" -gt 0 ] && total+=", $ignored ignored"
[ "$badbins" -gt 0 ] && total+=" ($badbins binaries crashed or timed out)"
echo "$total"
echo "$total" >>"$summary"
[ "$fail" -eq 0 ] && [ "$badbins" -eq 0 ] && [ "$leaks" -eq 0 ]
