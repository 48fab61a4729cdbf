#!/usr/bin/env bash
# A local, throw-away OCI registry for the sandbox, from Debian's
# docker-registry (distribution 2.8) with its OWN config: storage in the
# cache dir (images survive restarts), listening on 127.0.0.1:5000 only, no
# auth (Debian's default config listens on every interface with htpasswd).
# containerd's hosts.toml mirrors (remote-node.sh) send docker.io, ghcr.io and
# registry.k8s.io pulls here, so an image "registry.k8s.io/pause:3.10" is
# stored as "pause:3.10" and "docker.io/library/busybox:1.36" as
# "library/busybox:1.36".
#
# Usage: registry.sh start|stop|status
# Env:   REGISTRY_ADDR (default 127.0.0.1:5000; must be a loopback address),
#        INTERLINK_K8S_CACHE (cache root; storage in $root/registry),
#        ILK8S_RUNTIME_DIR (pid file, config and log; default
#        ${XDG_RUNTIME_DIR:-/tmp}/interlink-k8s).
# `start` is idempotent (a registry of ours already up is kept) and prints the
# address on its last line; `stop` is a no-op when none runs.
set -euo pipefail

ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
CACHE_ROOT="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
STORAGE="$CACHE_ROOT/registry"
RUN_DIR="${ILK8S_RUNTIME_DIR:-${XDG_RUNTIME_DIR:-/tmp}/interlink-k8s}"
PID_FILE="$RUN_DIR/registry.pid"
CONFIG="$RUN_DIR/registry.yml"
LOG_FILE="$RUN_DIR/registry.log"

log() { printf '[registry %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

case "$ADDR" in
  127.*:*|localhost:*|\[::1\]:*) ;;
  *) echo "REGISTRY_ADDR must be a loopback address, got $ADDR" >&2; exit 2 ;;
esac

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid=$(cat "$PID_FILE")
  # (a zombie has an empty cmdline: not running)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

answers() { curl -fsS -m 2 -o /dev/null "http://$ADDR/v2/" 2>/dev/null; }

start() {
  if pid=$(running_pid); then
    log "already running (pid $pid) at $ADDR"
    echo "$ADDR"; return 0
  fi
  if answers; then
    echo "something else already answers at http://$ADDR/v2/ (not started by registry.sh: no pid file in $RUN_DIR)" >&2
    exit 1
  fi
  command -v docker-registry >/dev/null || { echo "docker-registry is not installed (run node-prereqs.sh)" >&2; exit 1; }
  mkdir -p "$RUN_DIR" "$STORAGE"
  cat > "$CONFIG" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STORAGE
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  log "starting docker-registry at $ADDR (storage $STORAGE)"
  # Close every inherited descriptor above 2 first: a caller's flock or pipe
  # held open by the daemon would block that caller (or its $(...)) forever.
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec setsid docker-registry serve "$CONFIG" >>"$LOG_FILE" 2>&1 < /dev/null
  ) &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 100); do
    if answers; then log "ready (pid $(cat "$PID_FILE"))"; echo "$ADDR"; return 0; fi
    if ! [ -d "/proc/$(cat "$PID_FILE")" ]; then break; fi
    sleep 0.1
  done
  echo "docker-registry did not come up; log $LOG_FILE:" >&2
  tail -n 20 "$LOG_FILE" >&2 || true
  stop || true
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill "$pid" 2>/dev/null || true
  # (-s cmdline: a zombie waiting for PID 1 to reap it has an empty one)
  for _ in $(seq 1 50); do [ -s "/proc/$pid/cmdline" ] || break; sleep 0.1; done
  [ ! -s "/proc/$pid/cmdline" ] || kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do [ -d "/proc/$pid" ] || break; sleep 0.1; done   # reaped by PID 1
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if pid=$(running_pid); then echo "running pid $pid at $ADDR"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
