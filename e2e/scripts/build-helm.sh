#!/usr/bin/env bash
# Builds helm from the Go module proxy into a versioned cache outside the
# repository, once (the chart tests run `helm lint` and `helm template`).
# Re-running is a no-op when the binary is present.
#
# Usage: build-helm.sh
# Prints the helm binary's path on its last line.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
BIN_DIR="$CACHE_ROOT/bin/helm-$HELM_VERSION"
WORK_DIR="$CACHE_ROOT/build"
HELM="$BIN_DIR/helm"
mkdir -p "$BIN_DIR" "$WORK_DIR"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$HELM" ]; then
  echo "$HELM"
  exit 0
fi
command -v go >/dev/null || { echo "go is required to build helm $HELM_VERSION" >&2; exit 1; }

# Concurrent callers (jest workers, two terminals) must not build twice.
exec 9>"$WORK_DIR/.helm.lock"
flock 9
if [ -x "$HELM" ]; then
  echo "$HELM"
  exit 0
fi

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0

# helm's go.mod has no replace directives, so `go install module@version`
# builds it as published. The ldflags are those of helm's Makefile: without
# them `helm version` says "v3.22" and the Kubernetes version that `helm lint`
# and `.Capabilities` assume falls back to a default far older than the
# client-go helm is built with.
modfile=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
client_go=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$modfile")   # v0.MINOR.PATCH
k8s_minor=$(echo "$client_go" | cut -d. -f2)
[ -n "$k8s_minor" ] || { echo "cannot read the client-go version of helm $HELM_VERSION from $modfile" >&2; exit 1; }
ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done

log "helm $HELM_VERSION: compiling (first time: a few minutes)"
t0=$SECONDS
# Build into a temp dir first: a half-written binary must never look installed.
tmp=$(mktemp -d "$WORK_DIR/helm-$HELM_VERSION.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" nice -n 10 go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mv "$tmp/helm" "$HELM"
log "helm $HELM_VERSION: done in $((SECONDS - t0)) s"
echo "$HELM"
