# Sourced by the whole-command benchmarks: what they all set up.

# `busybox_rootfs DIR`: a busybox root filesystem in DIR, as the tests
# build it (Debian's busybox-static, one link per applet, root in passwd).
busybox_rootfs() {
  local rootfs=$1 a
  mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc,root}
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in $("$rootfs/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
}

# `compose_cmd`: `docker compose` or `docker-compose` when Docker runs here
# (empty with COMPOSE=0, or without Docker).
compose_cmd() {
  if [ "${COMPOSE:-1}" != 0 ] && docker info >/dev/null 2>&1; then
    if docker compose version >/dev/null 2>&1; then echo "docker compose"
    elif command -v docker-compose >/dev/null; then echo "docker-compose"; fi
  fi
}
