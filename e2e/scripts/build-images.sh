#!/usr/bin/env bash
# Builds the sandbox's container images WITHOUT Docker and pushes them to the
# local registry (registry.sh, started here when not running, left running):
#
#   registry.k8s.io/pause:3.10 (and :3.10.1)
#       Kubernetes' own build/pause/linux/pause.c from the k8s.io/kubernetes
#       module (Go module cache), compiled statically with gcc; USER 65535,
#       ENTRYPOINT /pause, like the official image.
#   docker.io/library/busybox:1.36 and :latest
#       A LOOK-ALIKE: Debian's busybox-static (1.35.x on bookworm, not 1.36)
#       with a symlink per applet, a minimal /etc/passwd and /etc/group,
#       CMD ["sh"].
#
# Images are assembled with umoci (OCI layout in the cache) and pushed with
# skopeo; nothing is written to /var/lib/containers. Pushed names drop the
# registry host (containerd's mirror asks http://127.0.0.1:5000/v2/pause/...
# for registry.k8s.io/pause), so "pause:3.10" and "library/busybox:1.36".
#
# Usage: build-images.sh          (FORCE=1 rebuilds images already pushed)
# Env:   K8S_VERSION (default v1.34.4; source of pause.c), REGISTRY_ADDR,
#        INTERLINK_K8S_CACHE, ILK8S_RUNTIME_DIR (see registry.sh).
# Prints the registry address on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
PAUSE_TAG="3.10.1"   # the version of pause.c in Kubernetes 1.34
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
WORK="$CACHE_ROOT/images"
LAYOUT="$WORK/oci"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FORCE="${FORCE:-0}"

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for t in umoci skopeo gcc curl; do
  command -v "$t" >/dev/null || { echo "$t is required (run node-prereqs.sh)" >&2; exit 1; }
done
[ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1 \
  || { echo "/bin/busybox (busybox-static) is required (run node-prereqs.sh)" >&2; exit 1; }
# Debian's (dynamic) busybox package also installs /bin/busybox: the image has no libc.
if ldd /bin/busybox >/dev/null 2>&1; then
  echo "/bin/busybox is dynamically linked: install busybox-static" >&2; exit 1
fi

mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock 9

ADDR=$(bash "$HERE/registry.sh" start | tail -n1)
t_all=$SECONDS

# Is NAME:TAG (registry path) already in the local registry?
pushed() { curl -fsS -m 5 -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$ADDR/v2/$1/manifests/$2" 2>/dev/null; }

# build_image TAG ROOTFS [umoci config args...]: a one-layer image in $LAYOUT.
build_image() {
  local tag="$1" rootfs="$2"; shift 2
  [ -d "$LAYOUT" ] || umoci init --layout "$LAYOUT"
  umoci rm --image "$LAYOUT:$tag" 2>/dev/null || true
  umoci new --image "$LAYOUT:$tag"
  umoci insert --image "$LAYOUT:$tag" "$rootfs" /
  umoci config --image "$LAYOUT:$tag" --os linux --architecture amd64 "$@"
  umoci gc --layout "$LAYOUT"
}

# push TAG REPO:REF...: copy the layout's TAG to each name in the registry.
push() {
  local tag="$1"; shift
  local ref
  for ref in "$@"; do
    skopeo copy --quiet --dest-tls-verify=false "oci:$LAYOUT:$tag" "docker://$ADDR/$ref" >&2
    log "pushed $ADDR/$ref"
  done
}

# ---- pause -----------------------------------------------------------------
if [ "$FORCE" = 1 ] || ! pushed pause 3.10 || ! pushed pause "$PAUSE_TAG"; then
  t0=$SECONDS
  kdir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  src="$kdir/build/pause/linux/pause.c"
  [ -f "$src" ] || { echo "pause.c not found at $src" >&2; exit 1; }
  root="$WORK/pause-rootfs"
  rm -rf "$root"; mkdir -p "$root"
  log "pause: gcc -static $src"
  # Same flags as build/pause/Makefile (CFLAGS = -Os -Wall -Werror -static -DVERSION=...).
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-$K8S_VERSION" -o "$root/pause" "$src"
  strip "$root/pause"
  "$root/pause" -v >&2
  build_image pause "$root" --config.user 65535:65535 --config.entrypoint /pause \
    --author interlink-k8s --history.comment "pause.c of k8s.io/kubernetes@$K8S_VERSION"
  push pause "pause:3.10" "pause:$PAUSE_TAG"
  log "pause done in $((SECONDS - t0)) s"
else
  log "pause:3.10 already in the registry (FORCE=1 to rebuild)"
fi

# ---- busybox ---------------------------------------------------------------
if [ "$FORCE" = 1 ] || ! pushed library/busybox 1.36 || ! pushed library/busybox latest; then
  t0=$SECONDS
  root="$WORK/busybox-rootfs"
  rm -rf "$root"; mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  /bin/busybox --list-full | while read -r p; do
    [ "$p" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$p")"
    ln -sf /bin/busybox "$root/$p"
  done
  mkdir -p "$root"/{etc,tmp,root,var/tmp,home,proc,sys,dev}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"
  # (no `busybox | head`: with pipefail, SIGPIPE on busybox would abort the script)
  bbver=$(/bin/busybox 2>&1 || true); bbver=$(sed -n '1s/^BusyBox \(v[^ ]*\).*/\1/p' <<<"$bbver")
  log "busybox: rootfs from Debian's busybox-static $bbver ($(ls "$root/bin" | wc -l) entries in /bin)"
  build_image busybox "$root" --config.cmd sh \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.label "org.opencontainers.image.description=Debian busybox-static $bbver (look-alike of busybox:1.36)" \
    --author interlink-k8s --history.comment "Debian busybox-static $bbver"
  push busybox "library/busybox:1.36" "library/busybox:latest"
  log "busybox done in $((SECONDS - t0)) s"
else
  log "busybox:1.36 already in the registry (FORCE=1 to rebuild)"
fi

log "images ready in $((SECONDS - t_all)) s: $(curl -fsS "http://$ADDR/v2/_catalog")"
echo "$ADDR"
