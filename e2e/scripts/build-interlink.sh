#!/usr/bin/env bash
# Builds the real InterLink Virtual Kubelet and InterLink API server into a
# versioned cache outside the repository, once. Re-running is a no-op when
# both binaries are present.
#
# The Go module proxy does not serve github.com/interlink-hq/interlink, so the
# source is the snapshot of release 0.6.2 that sits beside the repository
# (../shared/vendor/interlink-0.6.2, see its SOURCE.md); it is built where it
# lies (it may be read-only: only the Go build cache and the output directory
# are written) and never copied into the repository. Its dependencies come
# from the Go module proxy.
#
# Usage: build-interlink.sh
# Env:   INTERLINK_SRC (default: <repo>/../shared/vendor/interlink-0.6.2),
#        INTERLINK_VERSION (label and KubeletVersion, default 0.6.2),
#        INTERLINK_K8S_CACHE (cache root).
# Prints the bin directory on its last line (virtual-kubelet, interlink).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IL_MODULE="github.com/interlink-hq/interlink"
IL_VERSION="${INTERLINK_VERSION:-0.6.2}"
IL_SRC="${INTERLINK_SRC:-$HERE/../../../shared/vendor/interlink-$IL_VERSION}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
BIN_DIR="$CACHE_ROOT/bin/interlink-$IL_VERSION"
mkdir -p "$BIN_DIR"

log() { printf '[build-interlink %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have_all() { [ -x "$BIN_DIR/virtual-kubelet" ] && [ -x "$BIN_DIR/interlink" ]; }
if have_all; then echo "$BIN_DIR"; exit 0; fi
command -v go >/dev/null || { echo "go is required to build InterLink" >&2; exit 1; }
if [ ! -f "$IL_SRC/go.mod" ] || ! grep -q "^module $IL_MODULE\$" "$IL_SRC/go.mod"; then
  echo "build-interlink: no InterLink source at $IL_SRC (expected the snapshot in shared/vendor; set INTERLINK_SRC)" >&2
  exit 1
fi

exec 9>"$BIN_DIR/.lock"
flock 9
if have_all; then echo "$BIN_DIR"; exit 0; fi

t0=$SECONDS
log "InterLink $IL_VERSION: compiling interlink and virtual-kubelet from $(cd "$IL_SRC" && pwd) (first time: about 2 minutes)"
# KubeletVersion is what the virtual node reports (and `interlink --version`);
# without it the node says `test`. InterLink's release build sets it the same way.
tmp="$BIN_DIR/.tmp"
rm -rf "$tmp"; mkdir -p "$tmp"
(cd "$IL_SRC" && CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath \
  -ldflags "-s -w -X $IL_MODULE/pkg/virtualkubelet.KubeletVersion=$IL_VERSION" \
  -o "$tmp/" ./cmd/interlink ./cmd/virtual-kubelet)
mv "$tmp/interlink" "$tmp/virtual-kubelet" "$BIN_DIR/"
rmdir "$tmp"

# Both must at least start: `interlink --version` prints the version and
# exits; the VK's `-help` prints its flags (exit 0 with Go's flag package).
v=$("$BIN_DIR/interlink" --version 2>&1) || { echo "interlink --version failed: $v" >&2; exit 1; }
log "interlink --version: $v"
h=$("$BIN_DIR/virtual-kubelet" -help 2>&1) || true
case "$h" in *configpath*) ;; *) echo "virtual-kubelet -help did not print its flags: $h" >&2; exit 1 ;; esac
log "InterLink $IL_VERSION built in $((SECONDS - t0)) s"
echo "$BIN_DIR"
