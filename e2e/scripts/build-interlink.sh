#!/usr/bin/env bash
# Builds the real InterLink Virtual Kubelet and InterLink API server from the Go
# module proxy into a versioned cache outside the repository, once. Re-running
# is a no-op when both binaries are present.
#
# InterLink's tags have no `v` prefix (0.6.2 is commit 84a381055341), so
# `go install ...@0.6.2` cannot work: a wrapper module requires
# github.com/interlink-hq/interlink at the pseudo-version of that commit and
# copies InterLink's own `replace` lines (virtual-kubelet => superfly fork),
# since replaces of a dependency are ignored by the go command.
#
# Usage: build-interlink.sh
# Env:   INTERLINK_VERSION (label, default 0.6.2), INTERLINK_COMMIT (default
#        84a381055341), INTERLINK_PSEUDO (pseudo-version to use when the proxy
#        cannot resolve the short commit; default the one of 84a381055341),
#        INTERLINK_K8S_CACHE (cache root), GOTOOLCHAIN (e.g. go1.27.3 if needed).
# Prints the bin directory on its last line (virtual-kubelet, interlink).
set -euo pipefail

IL_MODULE="github.com/interlink-hq/interlink"
IL_VERSION="${INTERLINK_VERSION:-0.6.2}"
IL_COMMIT="${INTERLINK_COMMIT:-84a381055341}"
# Commit 84a381055341 was committed 2026-07-10T08:48:49Z and no semver tag
# precedes it, hence v0.0.0-<UTC time>-<12 hex>.
IL_PSEUDO="${INTERLINK_PSEUDO:-v0.0.0-20260710084849-84a381055341}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
BIN_DIR="$CACHE_ROOT/bin/interlink-$IL_VERSION"
WORK_DIR="$CACHE_ROOT/build"
mkdir -p "$BIN_DIR" "$WORK_DIR"

log() { printf '[build-interlink %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have_all() { [ -x "$BIN_DIR/virtual-kubelet" ] && [ -x "$BIN_DIR/interlink" ]; }
if have_all; then echo "$BIN_DIR"; exit 0; fi
command -v go >/dev/null || { echo "go is required to build InterLink" >&2; exit 1; }

exec 9>"$WORK_DIR/.lock-interlink"
flock 9
if have_all; then echo "$BIN_DIR"; exit 0; fi

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
dir="$WORK_DIR/interlink-$IL_VERSION"
mkdir -p "$dir"
cd "$dir"
t_all=$SECONDS

if [ ! -f go.mod ] || ! grep -q "^require $IL_MODULE " go.mod; then
  log "InterLink $IL_VERSION: resolving $IL_MODULE@$IL_COMMIT"
  rm -f go.mod go.sum
  go mod init interlink-k8s.local/interlink-build >/dev/null 2>&1
  version=""
  if out=$(go list -m -json "$IL_MODULE@$IL_COMMIT" 2>&1); then
    version=$(sed -n 's/^[[:space:]]*"Version": "\(.*\)",\{0,1\}$/\1/p' <<<"$out")
  else
    log "the proxy does not resolve the short commit ($(printf '%s' "$out" | tail -n1)); trying $IL_PSEUDO"
  fi
  version="${version:-$IL_PSEUDO}"
  if ! dl=$(go mod download -json "$IL_MODULE@$version" 2>&1); then
    printf '%s\n' "$dl" >&2
    echo "build-interlink: $IL_MODULE@$version is not available from the Go module proxy (GOPROXY=$(go env GOPROXY))." >&2
    echo "  Set INTERLINK_PSEUDO to a served pseudo-version, or point GOPROXY at a proxy that serves it." >&2
    exit 3
  fi
  modfile=$(printf '%s\n' "$dl" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  log "InterLink $IL_VERSION: $IL_MODULE@$version"
  go mod edit -require "$IL_MODULE@$version"
  # Copy every replace of InterLink's go.mod (single-line and block forms);
  # local-path replaces cannot be reproduced and are skipped.
  awk '
    /^replace[[:space:]]*\($/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock { print; next }
    /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, ""); print }
  ' "$modfile" | while read -r old a b c d; do
    # forms: "old => new ver" or "old oldver => new ver"
    if [ "$a" = "=>" ]; then from="$old"; to="$b"; ver="$c"; else from="$old@$a"; to="$c"; ver="$d"; fi
    case "$to" in .*|/*) log "skipping local replace $from => $to"; continue ;; esac
    log "replace $from => $to $ver"
    go mod edit -replace "$from=$to@$ver"
  done
fi

# KubeletVersion is what the virtual node reports (and `interlink --version`);
# InterLink's release build sets it the same way.
ld="-s -w -X $IL_MODULE/pkg/virtualkubelet.KubeletVersion=$IL_VERSION"
for c in virtual-kubelet interlink; do
  [ -x "$BIN_DIR/$c" ] && continue
  log "InterLink $IL_VERSION: compiling $c (first time: several minutes)"
  t0=$SECONDS
  go build -trimpath -ldflags "$ld" -o "$BIN_DIR/$c.tmp" "$IL_MODULE/cmd/$c"
  mv "$BIN_DIR/$c.tmp" "$BIN_DIR/$c"
  log "InterLink $IL_VERSION: $c done in $((SECONDS - t0)) s"
done

# Both must at least start: `interlink --version` prints the version and
# exits; the VK's `-help` prints its flags (exit 0 with Go's flag package).
v=$("$BIN_DIR/interlink" --version 2>&1) || { echo "interlink --version failed: $v" >&2; exit 1; }
log "interlink --version: $v"
h=$("$BIN_DIR/virtual-kubelet" -help 2>&1) || true
case "$h" in *configpath*) log "virtual-kubelet -help: ok" ;; *) echo "virtual-kubelet -help did not print its flags: $h" >&2; exit 1 ;; esac
log "InterLink $IL_VERSION built in $((SECONDS - t_all)) s"
echo "$BIN_DIR"
