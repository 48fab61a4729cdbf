#!/usr/bin/env bash
# Builds the real Kubernetes control-plane binaries and etcd from the Go module
# proxy into a versioned cache outside the repository, once. Re-running is a
# no-op when the binaries are present.
#
# Usage: build-binaries.sh [component ...]
#   components: etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#   (default: etcd kube-apiserver kube-controller-manager)
# Prints the bin directory on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
BIN_DIR="$CACHE_ROOT/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
WORK_DIR="$CACHE_ROOT/build"
mkdir -p "$BIN_DIR" "$WORK_DIR"

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(etcd kube-apiserver kube-controller-manager)

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

need=()
for c in "${components[@]}"; do
  [ -x "$BIN_DIR/$c" ] || need+=("$c")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "$BIN_DIR"
  exit 0
fi
command -v go >/dev/null || { echo "go is required to build ${need[*]}" >&2; exit 1; }

# Concurrent callers (several jest workers, two terminals) must not build twice.
exec 9>"$WORK_DIR/.lock"
flock 9
need2=()
for c in "${need[@]}"; do [ -x "$BIN_DIR/$c" ] || need2+=("$c"); done
need=("${need2[@]+"${need2[@]}"}")
if [ ${#need[@]} -eq 0 ]; then echo "$BIN_DIR"; exit 0; fi

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0

build_etcd() {
  local dir="$WORK_DIR/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  log "etcd $ETCD_VERSION: resolving module graph"
  (cd "$dir"
   if [ ! -f main.go ]; then
     go mod init interlink-k8s.local/etcd-build >/dev/null 2>&1 || true
     # etcd's root module is not served by the proxy; its main is a one-liner
     # around etcdmain, which the server module carries.
     printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
     go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
     go mod tidy >/dev/null 2>&1
   fi
   log "etcd $ETCD_VERSION: compiling (first time: several minutes)"
   go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" .)
}

build_k8s() {
  local dir="$WORK_DIR/kubernetes-$K8S_VERSION"
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local staging="v0.${K8S_VERSION#v1.}"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.mod" ]; then
    log "kubernetes $K8S_VERSION: resolving module graph"
    (cd "$dir"
     go mod init interlink-k8s.local/k8s-build >/dev/null 2>&1
     local modfile
     modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
     # k8s.io/kubernetes requires each staging module at v0.0.0 and replaces it
     # with a local path; point each one at its published twin instead.
     grep -E '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$modfile" | awk '{print $1}' | while read -r m; do
       go mod edit -replace "$m=$m@$staging"
     done
     go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
     printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\nfunc main() {}\n' > tools.go
     go mod tidy >/dev/null 2>&1 || go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
     rm -f tools.go)
  fi
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for c in "$@"; do
    log "kubernetes $K8S_VERSION: compiling $c (first time: several minutes)"
    local t0=$SECONDS
    (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$BIN_DIR/$c" "k8s.io/kubernetes/cmd/$c")
    log "kubernetes $K8S_VERSION: $c done in $((SECONDS - t0)) s"
  done
}

k8s=()
for c in "${need[@]}"; do
  case "$c" in
    etcd) build_etcd ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl) k8s+=("$c") ;;
    *) echo "unknown component: $c" >&2; exit 2 ;;
  esac
done
[ ${#k8s[@]} -eq 0 ] || build_k8s "${k8s[@]}"
echo "$BIN_DIR"
