#!/usr/bin/env bash
# Images, whole commands, side by side in one hyperfine run each:
#
#   1. what an image costs once it is on this machine: `stack up -d` of a
#      stack that is already up (the no-op every edit-and-up pays) with N
#      services on a registry image, on a local OCI layout, and on a plain
#      rootfs directory — the gap, divided by N, is the per-service cost;
#   2. pulling N services of one image against pulling one: one pull;
#      beside `docker pull` of the same image from the same registry when
#      Docker works here.
#
#   sudo benches/images.sh       # needs: hyperfine busybox-static docker-registry python3
#   N=10 RUNS=20 benches/images.sh
#
# The registry is Debian's docker-registry on 127.0.0.1, filled by this
# script (python3, the distribution API); nothing leaves the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
. "$here/benches/lib.sh"
STACK=$(realpath "${STACK:-$here/target/release/stack}")
work=${BENCH_DIR:-/tmp/stack-bench-images}
runs=${RUNS:-20}
n=${N:-10}
export STACK_STATE_DIR=$work/state STACK_RUN_DIR=$work/run

rm -rf "$work"; mkdir -p "$work"
rootfs=$work/rootfs
busybox_rootfs "$rootfs"

# An OCI layout of that rootfs (one gzip layer), tagged v1.
python3 - "$rootfs" "$work/img" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
root, out = sys.argv[1], sys.argv[2]
os.makedirs(f"{out}/blobs/sha256")
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    t.add(root, arcname=".")
tar = buf.getvalue()
gz = gzip.compress(tar, 1)
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(b)
    return d
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
cfg = json.dumps({"architecture": arch, "os": "linux",
    "config": {"Cmd": ["sleep", "3600"], "Env": ["PATH=/bin"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode()
lay = put(gz); c = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + c, "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + lay, "size": len(gz)}]}).encode()
m = put(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + m, "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
    open(f"{out}/index.json", "w"))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY

# A registry on loopback, and the layout pushed to it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
YML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry=$!
cleanup() {
  for f in "$work"/*.yaml; do "$STACK" -f "$f" down -t 1 >/dev/null 2>&1 || true; done
  kill "$registry" 2>/dev/null || true; wait "$registry" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
python3 - "$work/img" "127.0.0.1:$port" <<'PY'
import json, sys, urllib.request
img, reg = sys.argv[1], sys.argv[2]
def req(method, url, data=None, ctype=None):
    r = urllib.request.Request(url, data=data, method=method)
    if ctype: r.add_header("Content-Type", ctype)
    return urllib.request.urlopen(r)
idx = json.load(open(f"{img}/index.json"))
mdesc = idx["manifests"][0]
man = open(f"{img}/blobs/sha256/{mdesc['digest'][7:]}", "rb").read()
m = json.loads(man)
for d in [m["config"]] + m["layers"]:
    b = open(f"{img}/blobs/sha256/{d['digest'][7:]}", "rb").read()
    loc = req("POST", f"http://{reg}/v2/bench/busybox/blobs/uploads/").headers["Location"]
    if loc.startswith("/"): loc = f"http://{reg}{loc}"
    req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d["digest"], b, "application/octet-stream")
req("PUT", f"http://{reg}/v2/bench/busybox/manifests/v1", man, mdesc["mediaType"])
PY
image="127.0.0.1:$port/bench/busybox:v1"

stackfile() { # name count source-line
  local f=$work/$1.yaml i
  echo "services:" > "$f"
  for i in $(seq 1 "$2"); do printf '  s%s:\n    %s\n    network_mode: none\n' "$i" "$3" >> "$f"; done
  echo "$f"
}
reg=$(stackfile registry "$n" "image: \"$image\"")
oci=$(stackfile oci "$n" "image: \"oci:$work/img:v1\"")
dir=$(stackfile rootfs "$n" "rootfs: $rootfs")
sed -i "s|^    rootfs: .*|&\n    command: sleep 3600|" "$dir"
reg1=$(stackfile registry1 1 "image: \"$image\"")

# 1. A no-op `up -d` of a stack that is up.
for f in "$reg" "$oci" "$dir"; do "$STACK" -f "$f" up -d >/dev/null; done
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/noop.md" \
  -n "up -d, $n services, rootfs dir (up already)" "$STACK -f $dir up -d" \
  -n "up -d, $n services, local OCI layout (up already)" "$STACK -f $oci up -d" \
  -n "up -d, $n services, registry image (pulled, missing)" "$STACK -f $reg up -d"
for f in "$reg" "$oci" "$dir"; do "$STACK" -f "$f" down -t 1 >/dev/null; done

# 2. One pull for N services, against one service; `docker pull` beside.
peers=()
if docker info >/dev/null 2>&1; then
  peers=(-n "docker pull (same image, same registry)" --prepare "sh -c 'docker rmi -f $image >/dev/null 2>&1 || true'" "docker pull -q $image")
fi
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$work/pull.md" \
  --prepare "$STACK image prune" -n "stack pull, 1 service" "$STACK -f $reg1 pull -q" \
  --prepare "$STACK image prune" -n "stack pull, $n services of one image" "$STACK -f $reg pull -q" \
  "${peers[@]}"
docker rmi -f "$image" >/dev/null 2>&1 || true
cat "$work/noop.md" "$work/pull.md"
