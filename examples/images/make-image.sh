#!/bin/sh
# Builds a small OCI image without Docker, from Debian's busybox-static:
#   img/        an OCI image layout, tagged v1   (image: oci:./img:v1)
#   saved.tar   the same image as `docker save` writes it, named demo/app:v1
#               (image: docker-archive:./saved.tar)
# Two layers: busybox and its applet links, then /app. The output is
# byte-for-byte reproducible; GREETING=... changes only the image config.
#
#   apt-get install busybox-static python3
#   examples/images/make-image.sh [OUT_DIR]      (default: this directory)
set -eu
out=${1:-$(dirname "$0")}
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$out"
exec python3 - "$out" "$busybox" "${GREETING:-hello}" <<'PY'
import gzip, hashlib, io, json, os, platform, shutil, subprocess, sys, tarfile

out, busybox, greeting = sys.argv[1], sys.argv[2], sys.argv[3]
arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
        "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}[platform.machine()]

def tar_of(entries):
    """entries: (name, kind, data-or-target, mode), written in order, owned by root, mtime 0."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data, mode in entries:
            i = tarfile.TarInfo(name)
            i.mode, i.mtime = mode, 0
            if kind == "dir":
                i.type = tarfile.DIRTYPE
                t.addfile(i)
            elif kind == "link":
                i.type, i.linkname = tarfile.SYMTYPE, data
                t.addfile(i)
            else:
                i.size = len(data)
                t.addfile(i, io.BytesIO(data))
    return buf.getvalue()

applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
base = [(d, "dir", None, 0o755) for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root")]
base.append(("bin/busybox", "file", open(busybox, "rb").read(), 0o755))
base += [("bin/" + a, "link", "busybox", 0o777) for a in sorted(applets) if a != "busybox"]
base.append(("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n", 0o644))
base.append(("etc/group", "file", b"root:x:0:\napp:x:1000:\n", 0o644))
run = b"""#!/bin/sh
echo "$GREETING, $1! (in $(pwd), as $(id -un))"
exec httpd -f -p 8080 -h /app/www
"""
app = tar_of([("app", "dir", None, 0o755), ("app/run.sh", "file", run, 0o755),
              ("app/www", "dir", None, 0o755),
              ("app/www/index.html", "file", b"it works\n", 0o644)])
base = tar_of(base)

config = {
    "architecture": arch, "os": "linux",
    "config": {
        "Entrypoint": ["/bin/sh", "/app/run.sh"],
        "Cmd": ["world"],
        "Env": ["PATH=/bin", "GREETING=" + greeting],
        "WorkingDir": "/app",
        "ExposedPorts": {"8080/tcp": {}},
        "Volumes": {"/data": {}},
        "StopSignal": "SIGTERM",
        "Healthcheck": {"Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"],
                        "Interval": 2_000_000_000, "Retries": 3},
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in (base, app)]},
    "history": [{"created_by": "make-image.sh: busybox"}, {"created_by": "make-image.sh: /app"}],
}
config = json.dumps(config, sort_keys=True).encode()

# The OCI layout: gzip'd layers, one manifest, index.json naming it v1.
img = os.path.join(out, "img")
shutil.rmtree(img, ignore_errors=True)
os.makedirs(os.path.join(img, "blobs", "sha256"))
def put(media_type, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(img, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + d, "size": len(data)}
layers = [put("application/vnd.oci.image.layer.v1.tar+gzip", gzip.compress(l, mtime=0)) for l in (base, app)]
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": put("application/vnd.oci.image.config.v1+json", config), "layers": layers}
m = put("application/vnd.oci.image.manifest.v1+json", json.dumps(manifest).encode())
m["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
m["platform"] = {"architecture": arch, "os": "linux"}
with open(os.path.join(img, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(img, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m]}, f)

# The docker save archive: <config hex>.json, <n>/layer.tar uncompressed, manifest.json.
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
files = [(cfg_name, config), ("0/layer.tar", base), ("1/layer.tar", app),
         ("manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": ["demo/app:v1"],
                                        "Layers": ["0/layer.tar", "1/layer.tar"]}]).encode())]
with open(os.path.join(out, "saved.tar"), "wb") as f:
    f.write(tar_of([("0", "dir", None, 0o755), ("1", "dir", None, 0o755)] +
                   [(n, "file", d, 0o644) for n, d in files]))
print(f"{img} (oci:{img}:v1), {os.path.join(out, 'saved.tar')} (docker-archive, demo/app:v1): "
      f"image id sha256:{hashlib.sha256(config).hexdigest()[:12]}, linux/{arch}")
PY
