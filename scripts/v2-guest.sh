#!/usr/bin/env bash
# Runs a command as root in a throwaway QEMU guest on a pure cgroup v2 kernel
# (Debian's own, fetched with apt-get download, never installed on the host),
# and exits with its status:
#
#   scripts/v2-guest.sh [--] CMD [ARG]...
#
# The guest: every controller on the unified hierarchy (cgroup_no_v1=all),
# cgroup2 at /sys/fs/cgroup (nsdelegate,memory_recursiveprot) with every
# controller enabled at the root; the command runs from
# /user.slice/user-0.slice/session-1.scope as a login on a systemd host would.
# The host's /usr and /etc are shared read-only (9p), the checkout (the git
# toplevel of the current directory) read-write at the same path, tmpfs on
# /tmp /run /var /root and on <checkout>/target/tmp (CARGO_TARGET_TMPDIR:
# overlayfs refuses 9p as an upper dir), an empty 64 MiB disk as /dev/vda
# (virtio-blk, for block I/O limits). Network: loopback only. The command
# starts in the current directory when that is inside the checkout (else the
# checkout), with PATH, HOME=/root and the host's CI, RUST_BACKTRACE and
# STACK_* variables; its stdout and stderr stream to this script's stdout.
#
# Environment:
#   V2_GUEST_TIMEOUT   seconds (or Nm) before the guest is killed; default 25m
#   V2_GUEST_ACCEL     kvm or tcg; default kvm only when the CPU shows vmx/svm
#   V2_GUEST_MEM       guest memory; default 2G.  V2_GUEST_CPUS: default 2
#   V2_GUEST_TMPFS     more guest-tmpfs paths under the checkout, ':'-separated
#   V2_GUEST_CACHE     kernel/initramfs cache; default
#                      ${XDG_CACHE_HOME:-/var/cache}/stack-v2-guest
#   V2_GUEST_KEEP_LOG  a file to copy the guest's kernel console log to
#   V2_GUEST_BOOT      pvh or bzimage: only that (default pvh, then bzimage)
#   V2_GUEST_BOOT_TIMEOUT  seconds for the guest to reach its init; default 90
#   V2_GUEST_MACHINE   QEMU machine; default q35 (its MSI-X devices come up
#                      ~2 s sooner under TCG than pc's ACPI-routed INTx)
#
# Exit status: the command's; 124 when the timeout hit; 125 when the guest
# did not boot or the command never reported (the console's tail is printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
    echo "usage: $0 [--] CMD [ARG]..." >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "v2-guest: needs root (9p passthrough, apt-get)" >&2
    exit 2
fi
say() { echo "v2-guest: $*" >&2; }

checkout=$(git rev-parse --show-toplevel 2>/dev/null || git -C "$here" rev-parse --show-toplevel)
case "$PWD/" in
    "$checkout"/*) workdir=$PWD ;;
    *) workdir=$checkout ;;
esac

timeout=${V2_GUEST_TIMEOUT:-25m}
case "$timeout" in
    *m) timeout=$((${timeout%m} * 60)) ;;
    *s) timeout=${timeout%s} ;;
esac
case "$timeout" in '' | *[!0-9]*) say "V2_GUEST_TIMEOUT must be seconds or Nm"; exit 2 ;; esac

# --- host packages ---------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -e /usr/share/qemu/qboot.rom ] || need+=(qemu-system-data)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
busybox=/bin/busybox

# --- kernel: the package linux-image-amd64 points to -----------------------
cache=${V2_GUEST_CACHE:-${XDG_CACHE_HOME:-/var/cache}/stack-v2-guest}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# "PACKAGE VERSION" of the kernel linux-image-amd64 depends on. apt-cache
# takes a second or more here (no pkgcache.bin): the answer is kept until the
# package lists change.
resolved=$cache/resolved
kpkg() {
    if [ -s "$resolved" ] && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$resolved" 2>/dev/null | head -n1)" ]; then
        cat "$resolved"
        return
    fi
    local dep ver
    dep=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n1)
    [ -n "$dep" ] || return 0
    ver=$(apt-cache show --no-all-versions "$dep" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$ver" ] && echo "$dep $ver" | tee "$resolved"
}
read -r pkg ver <<<"$(kpkg)" || true
if [ -z "$pkg" ]; then
    apt-get update -qq || true
    read -r pkg ver <<<"$(kpkg)" || true
fi
if [ -n "$pkg" ]; then
    kdir=$cache/kernel-$pkg-$ver
else
    # No package lists (offline): the newest kernel already cached.
    kdir=$(ls -d "$cache"/kernel-*/.ok 2>/dev/null | sort -V | tail -n1 | xargs -r dirname)
    [ -n "$kdir" ] || { say "cannot find the package linux-image-amd64 points to"; exit 125; }
fi

# What the guest needs: virtio, 9p and overlay to boot; veth, bridge and
# nftables (NAT, masquerade, conntrack, fib; crc32c_generic is libcrc32c's
# soft dependency, which `depends=` does not name) for the networking tests. Their
# dependencies come from each module's own `depends=`, and modules/order
# lists them all in a loadable order (dependencies first).
modules="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
virtio_blk netfs fscache 9pnet 9pnet_virtio 9p overlay
veth bridge crc32c_generic nf_tables nft_chain_nat nft_nat nft_masq nft_ct nft_fib_inet nft_fib_ipv4 nft_fib_ipv6"
# A cache from before a module was added is fetched again.
for m in $modules; do
    [ -e "$kdir/modules/$m.ko" ] || rm -f "$kdir/.ok"
done
[ -e "$kdir/modules/order" ] || rm -f "$kdir/.ok"

# A module's `depends=` from its .modinfo strings (no kmod needed).
module_depends() {
    case "$1" in
        *.ko.xz) xz -dc "$1" ;;
        *.ko.zst) zstd -qdc "$1" ;;
        *) cat "$1" ;;
    esac | tr '\0' '\n' | grep -a '^depends=' | head -n1 | cut -d= -f2
}

# `ordered INDEX MODULE...`: the modules and their dependencies (each
# module's `depends=`: a kernel package ships no modules.dep), each once,
# every module after what it needs. INDEX lists `name path` for every
# module of the package.
ordered() {
    local index=$1 m
    shift
    for m in "$@"; do visit_module "$index" "$m"; done
}
visit_module() {
    local index=$1 m=$2 f d
    case " $seen " in *" $m "*) return ;; esac
    seen="$seen $m"
    f=$(awk -v m="$m" '$1 == m {print $2; exit}' "$index")
    [ -n "$f" ] || { say "module $m not in $pkg"; exit 125; }
    for d in $(module_depends "$f" | tr , ' '); do
        visit_module "$index" "$(echo "$d" | tr - _)"
    done
    echo "$m"
}

# The uncompressed kernel out of a bzImage, as the kernel's extract-vmlinux
# does: at each xz magic (\xfd 7zXZ \0), try to decompress an ELF.
extract_vmlinux() {
    local img=$1 out=$2 pos
    for pos in $(tr '\3757zXZ\000\n' '\nabcde=' <"$img" | grep -abo '^abcde' | cut -d: -f1); do
        if tail -c +"$pos" "$img" | xz -dc --single-stream >"$out.tmp" 2>/dev/null ||
            [ -s "$out.tmp" ]; then
            if [ "$(head -c4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
                mv "$out.tmp" "$out"
                return 0
            fi
        fi
    done
    rm -f "$out.tmp"
    return 1
}

if [ ! -e "$kdir/.ok" ]; then
    say "fetching $pkg $ver (apt-get download, not installed)"
    dl=$(mktemp -d "$cache/dl.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dl'" EXIT
    # apt downloads as its _apt user where that user may write.
    chown _apt "$dl" 2>/dev/null || true
    (cd "$dl" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    deb=$(ls "$dl"/*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || { say "apt-get download $pkg failed"; exit 125; }
    dpkg-deb -x "$deb" "$dl/x"
    rm -f "$deb"
    mkdir -p "$dl/k/modules"
    cp "$dl"/x/boot/vmlinuz-* "$dl/k/vmlinuz"
    cp "$dl"/x/boot/config-* "$dl/k/config"
    find "$dl/x/lib/modules" -name '*.ko*' | awk '{
        n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst))?$/, "", n); gsub(/-/, "_", n); print n, $0
    }' >"$dl/index"
    seen=
    # shellcheck disable=SC2086
    ordered "$dl/index" $modules >"$dl/k/modules/order"
    for m in $(cat "$dl/k/modules/order"); do
        f=$(awk -v m="$m" '$1 == m {print $2; exit}' "$dl/index")
        case "$f" in
            *.ko) cp "$f" "$dl/k/modules/$m.ko" ;;
            *.ko.xz) xz -dc "$f" >"$dl/k/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc "$f" >"$dl/k/modules/$m.ko" ;;
            *) say "module $m not in $pkg"; exit 125 ;;
        esac
    done
    extract_vmlinux "$dl/k/vmlinuz" "$dl/k/vmlinux" || say "no uncompressed kernel in vmlinuz: booting bzImage"
    touch "$dl/k/.ok"
    rm -rf "$kdir"
    mv "$dl/k" "$kdir"
    rm -rf "$dl"
    trap - EXIT
    # Older kernels are not needed any more.
    for old in "$cache"/kernel-*; do
        [ "$old" = "$kdir" ] || rm -rf "$old"
    done
fi

# --- initramfs: busybox, the modules, /init; cached by content hash --------
hash=$( {
    sha256sum "$busybox" "$here/v2-guest/init" "$here/v2-guest/stage2"
    (cd "$kdir/modules" && sha256sum ./*.ko order)
} | awk '{print $1}' | sha256sum | cut -c1-16)
initrd=$cache/initramfs-$hash.cpio
if [ ! -e "$initrd" ]; then
    ir=$(mktemp -d "$cache/ir.XXXXXX")
    mkdir -p "$ir/bin" "$ir/modules" "$ir/dev"
    cp "$busybox" "$ir/bin/busybox"
    cp "$kdir"/modules/*.ko "$kdir/modules/order" "$ir/modules/"
    cp "$here/v2-guest/init" "$ir/init"
    cp "$here/v2-guest/stage2" "$ir/stage2"
    chmod 755 "$ir/init"
    (cd "$ir" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$ir"
    # Keep the few newest (other worktrees may use other init scripts).
    ls -t "$cache"/initramfs-*.cpio | tail -n +6 | xargs -r rm -f
fi
flock -u 9
exec 9>&-

# --- the run -----------------------------------------------------------------
run=$(mktemp -d "${TMPDIR:-/tmp}/stack-v2-guest.XXXXXX")
# An empty disk (sparse), so the guest has a block device for the block
# I/O limit tests (/dev/vda).
truncate -s 64M "$run/disk.img"
qpid=
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill "$qpid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$qpid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    [ -n "${V2_GUEST_KEEP_LOG:-}" ] && [ -e "$run/console.log" ] && cp "$run/console.log" "$V2_GUEST_KEEP_LOG"
    rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$run/ctl"
printf '%s\n' "$checkout" >"$run/ctl/src"
{
    echo "$checkout/target/tmp"
    tr ':' '\n' <<<"${V2_GUEST_TMPFS:-}"
} | sed '/^$/d' >"$run/ctl/tmpfs"
{
    echo "cd $(printf %q "$workdir") || exit 125"
    for v in CI RUST_BACKTRACE V2_TEST_TIMEOUT V2_TEST_THREADS $(compgen -e | grep '^STACK_' || true); do
        [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
    done
    printf 'exec'
    printf ' %q' "$@"
    echo
} >"$run/ctl/cmd"

accel=${V2_GUEST_ACCEL:-}
if [ -z "$accel" ]; then
    if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
fi
case "$accel" in
    kvm) accel_args=(-accel kvm -cpu host) ;;
    tcg) accel_args=(-accel "tcg,thread=multi" -cpu max) ;;
    *) say "V2_GUEST_ACCEL must be kvm or tcg"; exit 2 ;;
esac

cmdline="console=ttyS0 panic=-1 rdinit=/init cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 mitigations=off"
p9=security_model=passthrough,multidevs=remap
machine=${V2_GUEST_MACHINE:-q35}

# boot KIND: start qemu in the background on vmlinux (PVH) or bzImage.
boot() {
    local kernel_args
    if [ "$1" = pvh ]; then
        kernel_args=(-machine "$machine" -bios /usr/share/qemu/qboot.rom -kernel "$kdir/vmlinux")
    else
        kernel_args=(-machine "$machine" -kernel "$kdir/vmlinuz")
    fi
    rm -f "$run/console.log"
    qemu-system-x86_64 -name stack-v2-guest -nodefaults -no-user-config -display none \
        -no-reboot "${accel_args[@]}" -smp "${V2_GUEST_CPUS:-2}" -m "${V2_GUEST_MEM:-2G}" \
        "${kernel_args[@]}" -initrd "$initrd" -append "$cmdline" \
        -nic none \
        -drive "file=$run/disk.img,if=virtio,format=raw,cache=unsafe" \
        -serial "file:$run/console.log" \
        -chardev stdio,id=out,signal=off -serial chardev:out \
        -virtfs "local,path=/usr,mount_tag=usr,$p9,readonly=on" \
        -virtfs "local,path=/etc,mount_tag=etc,$p9,readonly=on" \
        -virtfs "local,path=$checkout,mount_tag=src,$p9" \
        -virtfs "local,path=$run/ctl,mount_tag=ctl,security_model=passthrough" \
        </dev/null 2>"$run/qemu.err" &
    qpid=$!
}

console_tail() {
    [ -s "$run/qemu.err" ] && sed 's/^/qemu: /' "$run/qemu.err" >&2
    if [ -s "$run/console.log" ]; then
        say "last lines of the guest's console:"
        tail -n 40 "$run/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
    fi
}

# Seconds since $t0 (bash's clock: no fork while the guest needs the CPUs).
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}'; }

kinds=(bzimage)
[ -s "$kdir/vmlinux" ] && kinds=(pvh bzimage)
[ -n "${V2_GUEST_BOOT:-}" ] && kinds=("$V2_GUEST_BOOT")
boot_limit=${V2_GUEST_BOOT_TIMEOUT:-90}
for kind in "${kinds[@]}"; do
    t0=$EPOCHREALTIME
    start=$SECONDS
    boot "$kind"
    # Until the guest's init has mounted the control dir.
    while kill -0 "$qpid" 2>/dev/null && [ ! -e "$run/ctl/booted" ]; do
        if [ $((SECONDS - start)) -gt "$boot_limit" ]; then
            say "$kind boot: no init after ${boot_limit}s"
            kill "$qpid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    if [ -e "$run/ctl/booted" ]; then
        break
    fi
    wait "$qpid" 2>/dev/null || true
    qpid=
    say "$kind boot failed"
    console_tail
done
[ -e "$run/ctl/booted" ] || exit 125

reported=
while kill -0 "$qpid" 2>/dev/null; do
    if [ -z "$reported" ] && [ -e "$run/ctl/started" ]; then
        reported=1
        say "command started $(elapsed)s after launch, guest uptime $(cat "$run/ctl/started")s ($kind, $accel, $(basename "$kdir" | sed 's/^kernel-//'))"
    fi
    if [ -e "$run/ctl/status" ] || [ -e "$run/ctl/failed" ]; then
        # poweroff -f follows at once; do not wait for a hung one.
        for _ in $(seq 50); do
            kill -0 "$qpid" 2>/dev/null || break
            sleep 0.1
        done
        break
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
        say "timeout: ${timeout}s (V2_GUEST_TIMEOUT) passed; killing the guest"
        console_tail
        exit 124
    fi
    sleep 0.2
done

if [ -e "$run/ctl/status" ]; then
    status=$(cat "$run/ctl/status")
    say "exit status $status, $(elapsed)s after launch"
    exit "$status"
fi
[ -e "$run/ctl/failed" ] && say "guest setup failed: $(cat "$run/ctl/failed")"
say "the command never reported an exit status"
console_tail
exit 125
