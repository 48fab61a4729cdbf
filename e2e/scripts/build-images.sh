#!/usr/bin/env bash
# Builds the sandbox's container images WITHOUT Docker and pushes them to the
# local registry (registry.sh, started here when not running, left running).
# These machines reach no image registry on the internet: every image a pod
# of the sandbox or of the vk-test-set conformance templates names is built
# here, from this machine's own files or Debian packages.
#
#   registry.k8s.io/pause:3.10 (and :3.10.1)
#       Kubernetes' own build/pause/linux/pause.c from the k8s.io/kubernetes
#       module (Go module cache), compiled statically with gcc; USER 65535,
#       ENTRYPOINT /pause, like the official image.
#
# The others are LOOK-ALIKES: the name of an upstream image on top of Debian
# packages. What each really is goes into its OCI description label; each has
# the upstream image's PATH, Entrypoint and Cmd and runs as root like it.
#
#   docker.io/library/busybox:1.36 and :latest
#       Debian's busybox-static (1.35.x on bookworm, not 1.36) with a symlink
#       per applet, a minimal /etc/passwd and /etc/group, CMD ["sh"].
#   docker.io/library/alpine:3 and :3.19
#       The same busybox-static rootfs (no musl, no apk), CMD ["/bin/sh"].
#   docker.io/library/python:alpine and :3.11-alpine
#       Debian bookworm's Python 3.11 (python3, python-is-python3) on glibc,
#       on a debootstrap minbase (dash as /bin/sh, coreutils, grep, sed...);
#       LANG=C.UTF-8, CMD ["python3"] like the real image (which is Python
#       built from source on Alpine's musl, with pip; upstream python:alpine
#       follows the newest CPython). No pip here.
#   docker.io/library/nginx:alpine
#       Debian bookworm's nginx on a minbase, serving /usr/share/nginx/html on
#       port 80 (IPv4), logs to stdout/stderr; ENTRYPOINT
#       ["/docker-entrypoint.sh"] (a few lines: runs /docker-entrypoint.d/*.sh
#       like the real one, none here), CMD ["nginx", "-g", "daemon off;"],
#       STOPSIGNAL SIGQUIT.
#   ghcr.io/grycap/cowsay (:latest)
#       Debian bookworm minbase + cowsay and jq (the real one is
#       bitnami/minideb:bullseye + cowsay + jq); /bin/bash, /usr/games/cowsay,
#       LANG=C.UTF-8, CMD ["/bin/bash"].
#
# Debian root filesystems: one `debootstrap --variant=minbase` of
# $DEBIAN_SUITE with the Debian mirror of this machine's apt sources
# ($CACHE_ROOT/images/debian-base, never an image itself), copied per image,
# which gets its packages with apt-get (no recommends) in a chroot of the copy
# (a policy-rc.d keeps their services from starting), then slimmed like
# debian:*-slim: no docs but copyright files, no man pages, locales, apt
# lists (a dpkg.cfg.d file keeps later installs slim too). Cached in
# $CACHE_ROOT/images/NAME-rootfs, with the recipe in NAME-rootfs.recipe: a
# rootfs is rebuilt only when its package list or the code that shapes it
# changes; debootstrap's .debs stay in $CACHE_ROOT/images/debs.
#
# Images are assembled with umoci (OCI layout in the cache) and pushed with
# skopeo; nothing is written to /var/lib/containers. Pushed names drop the
# registry host (containerd's mirror asks http://127.0.0.1:5000/v2/pause/...
# for registry.k8s.io/pause), so "pause:3.10", "library/busybox:1.36",
# "grycap/cowsay:latest". An image already in the registry is not rebuilt.
#
# Usage: build-images.sh          (FORCE=1 rebuilds and re-pushes every image,
#                                  from the cached root filesystems when their
#                                  recipe is unchanged; delete
#                                  $CACHE_ROOT/images/debian-base and
#                                  *-rootfs to start again from debootstrap,
#                                  e.g. for a Debian point release)
# Env:   K8S_VERSION (default v1.34.4; source of pause.c), DEBIAN_SUITE
#        (default bookworm), DEBIAN_MIRROR (default: from the apt sources),
#        REGISTRY_ADDR, INTERLINK_K8S_CACHE, ILK8S_RUNTIME_DIR (see registry.sh).
# Needs: umoci skopeo gcc curl busybox-static, and debootstrap for the Debian
#        look-alikes (node-prereqs.sh installs them).
# Prints the registry address on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
PAUSE_TAG="3.10.1"   # the version of pause.c in Kubernetes 1.34
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
WORK="$CACHE_ROOT/images"
LAYOUT="$WORK/oci"
DEBS="$WORK/debs"    # debootstrap's package cache, shared by the Debian look-alikes
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FORCE="${FORCE:-0}"
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { echo "$*" >&2; exit 1; }

for t in umoci skopeo gcc curl; do
  command -v "$t" >/dev/null || die "$t is required (run node-prereqs.sh)"
done
if ! { [ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1; }; then
  die "/bin/busybox (busybox-static) is required (run node-prereqs.sh)"
fi
# Debian's (dynamic) busybox package also installs /bin/busybox: the image has no libc.
if ldd /bin/busybox >/dev/null 2>&1; then
  die "/bin/busybox is dynamically linked: install busybox-static"
fi

mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock 9

# A debootstrap interrupted half-way leaves /proc and /sys mounted in its
# target: unmount whatever is mounted under DIR.
umount_under() {
  local m
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" || true
  done
}
BUILDING=""   # the rootfs being built: its mounts are undone if this script dies
trap '[ -z "$BUILDING" ] || umount_under "$BUILDING"' EXIT

ADDR=$(bash "$HERE/registry.sh" start | tail -n1)
t_all=$SECONDS

# Is NAME:TAG (registry path) already in the local registry?
pushed() { curl -fsS -m 5 -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$ADDR/v2/$1/manifests/$2" 2>/dev/null; }

# wanted REPO:TAG...: true when FORCE=1 or one of them is not in the registry.
wanted() {
  local ref
  [ "$FORCE" = 1 ] && return 0
  for ref in "$@"; do pushed "${ref%:*}" "${ref##*:}" || return 0; done
  return 1
}

# build_image TAG ROOTFS [umoci config args...]: a one-layer image in $LAYOUT.
build_image() {
  local tag="$1" rootfs="$2"; shift 2
  [ -d "$LAYOUT" ] || umoci init --layout "$LAYOUT"
  umoci rm --image "$LAYOUT:$tag" 2>/dev/null || true
  umoci new --image "$LAYOUT:$tag"
  umoci insert --image "$LAYOUT:$tag" "$rootfs" /
  umoci config --image "$LAYOUT:$tag" --os linux --architecture amd64 --author interlink-k8s "$@"
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

# image_size TAG: compressed size of the layout's TAG (what a node pulls).
image_size() {
  skopeo inspect --raw "oci:$LAYOUT:$1" | grep -o '"size": *[0-9]*' \
    | awk -F: '{ s += $2 } END { printf "%.1f MiB\n", s / 1048576 }'
}

# ---- Debian root filesystems -----------------------------------------------

# The first mirror of $DEBIAN_SUITE in the apt sources (one-line .list and
# deb822 .sources), or $DEBIAN_MIRROR.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return 0; fi
  local f files=() mirror
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || die "no apt sources in /etc/apt: set DEBIAN_MIRROR"
  mirror=$(awk -v suite="$DEBIAN_SUITE" '
    function flush() {
      if (!found && uri != "" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " ")) { print uri; found = 1 }
      types = ""; suites = ""; uri = ""
    }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    FILENAME ~ /\.sources$/ {
      if (NF == 0) { flush(); next }
      key = tolower($1); $1 = ""
      if (key == "types:") types = $0; else if (key == "suites:") suites = $0; else if (key == "uris:") uri = $2
      next
    }
    $1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (!found && $(i + 1) == suite) { print $i; found = 1 }
    }
    END { flush() }' "${files[@]}")
  [ -n "$mirror" ] || die "no Debian mirror for $DEBIAN_SUITE in ${files[*]}: set DEBIAN_MIRROR"
  echo "$mirror"
}

# The dpkg settings of every Debian rootfs, written before debootstrap runs
# dpkg: what debian:*-slim leaves out (debuerreotype's slimify; kept in the
# images, so later dpkg runs stay slim), and no fsync per file while building
# (removed from the images).
dpkg_settings() {
  local r="$1"
  mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
  cat > "$r/etc/dpkg/dpkg.cfg.d/interlink-k8s-slim" <<'EOF'
# interlink-k8s look-alike image: no docs, man pages or translations
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  echo force-unsafe-io > "$r/etc/dpkg/dpkg.cfg.d/interlink-k8s-build"
}

# $WORK/debian-base: debootstrap --variant=minbase of $DEBIAN_SUITE, the
# common start of every Debian look-alike (never an image itself). It keeps
# a policy-rc.d that forbids starting services, as the copies install
# packages (nginx) in a chroot on this machine. Reused while its recipe
# (suite, this code) is unchanged.
BASE="$WORK/debian-base"
BASE_KEY=""
debian_base() {
  local t0=$SECONDS mirror
  BASE_KEY="$DEBIAN_SUITE $(declare -f debian_base dpkg_settings | sha256sum | cut -c1-16)"
  if [ -d "$BASE" ] && [ "$(cat "$BASE.recipe" 2>/dev/null)" = "$BASE_KEY" ]; then return 0; fi
  command -v debootstrap >/dev/null || die "debootstrap is required (run node-prereqs.sh)"
  mirror=$(debian_mirror)
  BUILDING="$BASE.tmp"
  umount_under "$BUILDING"
  rm -rf "$BUILDING" "$BASE" "$BASE.recipe"
  mkdir -p "$DEBS" "$BUILDING/usr/sbin"
  dpkg_settings "$BUILDING"
  printf '#!/bin/sh\n# interlink-k8s image build: start no service\nexit 101\n' > "$BUILDING/usr/sbin/policy-rc.d"
  chmod 755 "$BUILDING/usr/sbin/policy-rc.d"
  log "debian-base: debootstrap --variant=minbase $DEBIAN_SUITE $mirror"
  if ! debootstrap --variant=minbase --cache-dir="$DEBS" "$DEBIAN_SUITE" "$BUILDING" "$mirror" \
      >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (log $WORK/debootstrap.log)"
  fi
  umount_under "$BUILDING"
  rm -f "$WORK/debootstrap.log"
  mv "$BUILDING" "$BASE"
  BUILDING=""
  echo "$BASE_KEY" > "$BASE.recipe"
  log "debian-base: $BASE ($(du -sh "$BASE" | cut -f1)) in $((SECONDS - t0)) s"
}

# in_root ROOT CMD...: CMD in a chroot of ROOT with a clean environment.
in_root() {
  local r="$1"; shift
  chroot "$r" /usr/bin/env -i PATH="$DEFAULT_PATH" LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Remove what only the build needed and what debian:*-slim leaves out.
slim_rootfs() {
  local r="${1:?}"
  case "$r" in "$WORK"/*-rootfs.tmp) ;; *) die "slim_rootfs: refusing $r" ;; esac
  rm -f "$r/usr/sbin/policy-rc.d" "$r/etc/dpkg/dpkg.cfg.d/interlink-k8s-build"
  find "$r/usr/share/doc" -mindepth 1 \( -type f -o -type l \) ! -name copyright -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r"/usr/share/{man,groff,info,lintian,linda,locale}/* \
    "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old \
    "$r"/var/log/* "$r"/tmp/* "$r"/var/tmp/* "${r:?}"/run/* "${r:?}"/dev/*
  # the runtime provides these (debootstrap copied the host's)
  rm -f "$r/etc/resolv.conf" "$r/etc/hostname"
}

# debian_rootfs NAME PACKAGES CUSTOMIZE: $WORK/NAME-rootfs, a copy of the
# Debian base with PACKAGES (and their dependencies, no recommends) installed
# by apt-get in a chroot, slimmed, then shaped by the function CUSTOMIZE ROOT.
# Reused while its recipe (base, packages, the code of slim_rootfs and
# CUSTOMIZE) is unchanged.
debian_rootfs() {
  local name="$1" pkgs="$2" customize="$3"
  local root="$WORK/$name-rootfs" key t0=$SECONDS aptlog="$WORK/$name-apt.log"
  debian_base
  key="$BASE_KEY $pkgs $(declare -f slim_rootfs "$customize" | sha256sum | cut -c1-16)"
  if [ -d "$root" ] && [ "$(cat "$root.recipe" 2>/dev/null)" = "$key" ]; then
    log "$name: cached rootfs $root ($(du -sh "$root" | cut -f1))"
    return 0
  fi
  BUILDING="$root.tmp"
  rm -rf "$BUILDING" "$root" "$root.recipe"
  cp -a "$BASE" "$BUILDING"
  cp -L /etc/resolv.conf "$BUILDING/etc/resolv.conf"   # for apt-get, removed by slim_rootfs
  log "$name: apt-get install $pkgs (chroot of a copy of debian-base)"
  # shellcheck disable=SC2086 # PACKAGES is a word list
  if ! { in_root "$BUILDING" apt-get update -qq && \
         in_root "$BUILDING" apt-get install -y -qq --no-install-recommends $pkgs; } >"$aptlog" 2>&1; then
    tail -n 20 "$aptlog" >&2
    die "$name: apt-get failed (log $aptlog)"
  fi
  rm -f "$aptlog"
  slim_rootfs "$BUILDING"
  "$customize" "$BUILDING"
  mv "$BUILDING" "$root"
  BUILDING=""
  echo "$key" > "$root.recipe"
  log "$name: rootfs $root ($(du -sh "$root" | cut -f1)) in $((SECONDS - t0)) s"
}

# deb_version ROOT PACKAGE: the version dpkg installed in ROOT.
deb_version() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Version}' "$2"; }

# ---- pause -----------------------------------------------------------------
build_pause() {
  wanted "pause:3.10" "pause:$PAUSE_TAG" || { log "pause:3.10 already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS kdir src root="$WORK/pause-rootfs"
  kdir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  src="$kdir/build/pause/linux/pause.c"
  [ -f "$src" ] || die "pause.c not found at $src"
  rm -rf "$root"; mkdir -p "$root"
  log "pause: gcc -static $src"
  # Same flags as build/pause/Makefile (CFLAGS = -Os -Wall -Werror -static -DVERSION=...).
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-$K8S_VERSION" -o "$root/pause" "$src"
  strip "$root/pause"
  "$root/pause" -v >&2
  build_image pause "$root" --config.user 65535:65535 --config.entrypoint /pause \
    --history.comment "pause.c of k8s.io/kubernetes@$K8S_VERSION"
  push pause "pause:3.10" "pause:$PAUSE_TAG"
  log "pause done in $((SECONDS - t0)) s"
}

# ---- busybox-static rootfs (busybox, alpine) -------------------------------

# busybox_rootfs DIR: Debian's busybox-static with a symlink per applet.
busybox_rootfs() {
  local root="$1" p
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
}

# BusyBox version of /bin/busybox, e.g. v1.35.0.
busybox_version() {
  local v
  # (no `busybox | head`: with pipefail, SIGPIPE on busybox would abort the script)
  v=$(/bin/busybox 2>&1 || true)
  sed -n '1s/^BusyBox \(v[^ ]*\).*/\1/p' <<<"$v"
}

build_busybox() {
  wanted library/busybox:1.36 library/busybox:latest || { log "busybox:1.36 already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS root="$WORK/busybox-rootfs" v
  v=$(busybox_version)
  busybox_rootfs "$root"
  log "busybox: rootfs from Debian's busybox-static $v ($(find "$root/bin" -mindepth 1 | wc -l) entries in /bin)"
  build_image busybox "$root" --config.cmd sh --config.env "PATH=$DEFAULT_PATH" \
    --config.label "org.opencontainers.image.description=Debian busybox-static $v (look-alike of busybox:1.36)" \
    --history.comment "Debian busybox-static $v"
  push busybox "library/busybox:1.36" "library/busybox:latest"
  log "busybox done in $((SECONDS - t0)) s"
}

# The templates run /bin/sh scripts (echo, test, sleep, date) and the default
# CMD in alpine: busybox is Alpine's userland too (without musl and apk).
build_alpine() {
  wanted library/alpine:3 library/alpine:3.19 || { log "alpine:3.19 already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS root="$WORK/alpine-rootfs" v
  v=$(busybox_version)
  busybox_rootfs "$root"
  log "alpine: rootfs from Debian's busybox-static $v"
  build_image alpine "$root" --config.cmd /bin/sh --config.env "PATH=$DEFAULT_PATH" \
    --config.label "org.opencontainers.image.description=Debian busybox-static $v, no musl, no apk (look-alike of alpine:3.19)" \
    --history.comment "Debian busybox-static $v"
  push alpine "library/alpine:3" "library/alpine:3.19"
  log "alpine done in $((SECONDS - t0)) s"
}

# ---- python ----------------------------------------------------------------
customize_python() { :; }   # python-is-python3 gives /usr/bin/python -> python3

build_python() {
  wanted library/python:alpine library/python:3.11-alpine || { log "python:3.11-alpine already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS root="$WORK/python-rootfs" v
  debian_rootfs python "python3 python-is-python3" customize_python
  v=$(deb_version "$root" python3.11)
  build_image python "$root" --config.cmd python3 \
    --config.env "PATH=/usr/local/bin:$DEFAULT_PATH" --config.env LANG=C.UTF-8 \
    --config.env "PYTHON_VERSION=${v%%-*}" \
    --config.label "org.opencontainers.image.description=Debian $DEBIAN_SUITE python3.11 $v on glibc, no pip (look-alike of python:alpine and python:3.11-alpine)" \
    --history.comment "debootstrap --variant=minbase $DEBIAN_SUITE + python3 python-is-python3"
  log "python: image $(image_size python)"
  push python "library/python:alpine" "library/python:3.11-alpine"
  log "python done in $((SECONDS - t0)) s"
}

# ---- nginx -----------------------------------------------------------------
customize_nginx() {
  local r="$1"
  # The real image's default server (conf.d/default.conf), not Debian's site.
  rm -f "$r/etc/nginx/sites-enabled/default"
  cat > "$r/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
  [ -f "$r/usr/share/nginx/html/index.html" ] || die "nginx: no /usr/share/nginx/html/index.html in the package"
  printf '<!DOCTYPE html>\n<html><head><title>Error</title></head>\n<body><h1>An error occurred.</h1></body></html>\n' \
    > "$r/usr/share/nginx/html/50x.html"
  # Logs to the container's stdout/stderr, as in the real image.
  mkdir -p "$r/var/log/nginx"
  ln -sf /dev/stdout "$r/var/log/nginx/access.log"
  ln -sf /dev/stderr "$r/var/log/nginx/error.log"
  mkdir -p "$r/docker-entrypoint.d"
  cat > "$r/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# interlink-k8s look-alike of nginx:alpine's entrypoint: before nginx, run the
# executable /docker-entrypoint.d/*.sh (there are none in this image); then
# exec the command.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    for f in /docker-entrypoint.d/*.sh; do
        if [ -x "$f" ]; then
            echo "$0: Launching $f"
            "$f"
        fi
    done
fi
exec "$@"
EOF
  chmod 755 "$r/docker-entrypoint.sh"
}

build_nginx() {
  wanted library/nginx:alpine || { log "nginx:alpine already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS root="$WORK/nginx-rootfs" v
  debian_rootfs nginx nginx customize_nginx
  v=$(deb_version "$root" nginx)
  build_image nginx "$root" --config.entrypoint /docker-entrypoint.sh \
    --config.cmd nginx --config.cmd=-g --config.cmd 'daemon off;' \
    --config.env "PATH=$DEFAULT_PATH" --config.env "NGINX_VERSION=${v%%-*}" \
    --config.exposedports 80/tcp --config.stopsignal SIGQUIT \
    --config.label "org.opencontainers.image.description=Debian $DEBIAN_SUITE nginx $v on glibc (look-alike of nginx:alpine)" \
    --history.comment "debootstrap --variant=minbase $DEBIAN_SUITE + nginx"
  log "nginx: image $(image_size nginx)"
  push nginx "library/nginx:alpine"
  log "nginx done in $((SECONDS - t0)) s"
}

# ---- cowsay ----------------------------------------------------------------
customize_cowsay() { :; }   # Debian's cowsay is /usr/games/cowsay, as in the real image

build_cowsay() {
  wanted grycap/cowsay:latest || { log "grycap/cowsay already in the registry (FORCE=1 to rebuild)"; return 0; }
  local t0=$SECONDS root="$WORK/cowsay-rootfs" v
  debian_rootfs cowsay "cowsay jq" customize_cowsay
  v=$(deb_version "$root" cowsay)
  build_image cowsay "$root" --config.cmd /bin/bash \
    --config.env "PATH=$DEFAULT_PATH" --config.env LANG=C.UTF-8 \
    --config.label "org.opencontainers.image.description=Debian $DEBIAN_SUITE minbase + cowsay $v + jq (look-alike of ghcr.io/grycap/cowsay, bitnami/minideb:bullseye + cowsay + jq)" \
    --history.comment "debootstrap --variant=minbase $DEBIAN_SUITE + cowsay jq"
  log "cowsay: image $(image_size cowsay)"
  push cowsay "grycap/cowsay:latest"
  log "cowsay done in $((SECONDS - t0)) s"
}

build_pause
build_busybox
build_alpine
build_python
build_nginx
build_cowsay

log "images ready in $((SECONDS - t_all)) s: $(curl -fsS "http://$ADDR/v2/_catalog")"
echo "$ADDR"
