#!/usr/bin/env bash
# Installs, from Debian's own repositories and only when missing, what a real
# Kubernetes node and the image tooling of the sandbox need on this machine:
#   containerd runc containernetworking-plugins iptables iproute2
#   busybox-static docker-registry curl umoci skopeo, plus gcc/libc6-dev for
#   the pause binary, debootstrap for the Debian look-alike images
#   (python, nginx, cowsay: build-images.sh), OpenSSH for the tunnel's
#   interoperability tests and shellcheck for the scripts' lint.
# Services shipped by those packages are NOT started (policy-rc.d): the
# sandbox starts containerd and the registry itself, with its own configs.
#
# Usage: node-prereqs.sh          (must run as root; idempotent)
# Prints the packages it installed (one line, possibly empty) on stdout.
set -euo pipefail

log() { printf '[prereqs %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "node-prereqs.sh must run as root" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "node-prereqs.sh needs apt-get (Debian/Ubuntu)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]; }
# (no `| grep -q`: with pipefail, grep's early exit makes apt-cache fail on SIGPIPE)
available() { local out; out=$(apt-cache policy "$1" 2>/dev/null) || return 1; [[ "$out" == *"Candidate: "[!\(]* ]]; }

wanted=(containerd runc containernetworking-plugins iptables iproute2 busybox-static docker-registry gcc libc6-dev curl
  # image tooling: no daemon, nothing under /var/lib/containers (bookworm also
  # has buildah 1.28, but build-images.sh uses these two)
  umoci skopeo
  # root filesystems of the Debian look-alike images (python:alpine, nginx:alpine...)
  debootstrap
  # the tunnel's interoperability tests: OpenSSH's ssh -R against our gateway,
  # our bastion against OpenSSH's sshd (started by the tests on loopback only)
  openssh-client openssh-server
  # lint of the shell scripts (the shell-scripts project's lint target)
  shellcheck)

# Nothing to do when everything is there: skip apt-get update.
need_update=0
for p in "${wanted[@]}"; do installed "$p" || need_update=1; done

if [ "$need_update" -eq 0 ]; then
  log "all prerequisites already installed"
  echo ""
  exit 0
fi

log "apt-get update"
t0=$SECONDS
aptlog=$(mktemp)
created_policy=0
cleanup() { rm -f "$aptlog"; [ "$created_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT
apt-get update -qq >"$aptlog" 2>&1 || { cat "$aptlog" >&2; rm -f "$aptlog"; exit 1; }

todo=()
for p in "${wanted[@]}"; do
  if installed "$p"; then continue; fi
  available "$p" || { echo "package $p is not available (apt-cache policy $p)" >&2; exit 1; }
  todo+=("$p")
done

if [ ${#todo[@]} -eq 0 ]; then
  log "all prerequisites already installed"
  echo ""
  exit 0
fi

# Keep the packages' init scripts from starting containerd / docker-registry
# with their default configs (the registry's listens on every interface).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi

log "installing: ${todo[*]}"
apt-get install -y -qq --no-install-recommends "${todo[@]}" >"$aptlog" 2>&1 || { cat "$aptlog" >&2; exit 1; }
log "installed in $((SECONDS - t0)) s"
for p in "${todo[@]}"; do
  log "  $p $(dpkg-query -W -f='${Version}' "$p")"
done
echo "${todo[*]}"
