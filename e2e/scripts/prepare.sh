#!/usr/bin/env bash
# Everything `./dev test`, `./dev demo` and `./dev bench` need on this
# machine besides Node, once (each step is a no-op when done, the whole in
# about a second):
#   1. node-prereqs.sh   apt packages of a real node: containerd, runc, CNI
#                        plugins, iptables, docker-registry, umoci, skopeo...
#                        (needs root; apt-get update only when one is missing)
#   2. build-binaries.sh etcd, kube-apiserver, kube-controller-manager,
#                        kube-scheduler, kubelet, kubectl from the Go module proxy
#   3. build-images.sh   pause and busybox images in the local registry
#                        (127.0.0.1:5000, started here and left running;
#                        `bash e2e/scripts/registry.sh stop` stops it)
#   4. build-helm.sh     helm, from the Go module proxy (the chart tests)
#   5. build-interlink.sh InterLink's Virtual Kubelet and API server, from the
#                        source snapshot in ../shared/vendor
#
# Usage: prepare.sh        Needs root, go, and apt-get (Debian/Ubuntu).
# Prints the bin directory on its last line.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[prepare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "prepare.sh: the e2e tests and the demo run a real Kubernetes node (containerd, kubelet, a bridge): run as root" >&2
  exit 1
fi
t0=$SECONDS
bash "$HERE/node-prereqs.sh" >/dev/null
bin=$(bash "$HERE/build-binaries.sh" etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl | tail -n1)
bash "$HERE/build-images.sh" >/dev/null
bash "$HERE/build-helm.sh" >/dev/null
bash "$HERE/build-interlink.sh" >/dev/null
log "ready in $((SECONDS - t0)) s (binaries in $bin)"
echo "$bin"
