#!/usr/bin/env bash
# Runs on this machine a REAL Kubernetes node (containerd + kubelet v1.34) for
# an existing control plane, and tears it down without leaving anything behind.
#
# Usage: remote-node.sh start DIR KUBECONFIG APISERVER_URL
#        remote-node.sh stop  DIR
#        remote-node.sh status DIR
#   DIR            absolute (or relative) directory for everything of this node:
#                  configs, containerd root/state, kubelet root, logs, pid files.
#                  No spaces. Kept by `stop` (logs, image cache); delete it yourself.
#   KUBECONFIG     a kubeconfig with rights to register the node. The admin
#                  (system:masters) one is accepted: fine for a sandbox, but a
#                  real node would use CN=system:node:<name>, O=system:nodes.
#   APISERVER_URL  written as the server of the node's kubeconfig (copy in DIR).
#
# Env (defaults): NODE_NAME (remote-node), POD_SUBNET (10.88.0.0/16),
#   BRIDGE (ilk8s0), CNI_NETWORK (ilk8s), NODE_IP (first address of
#   POD_SUBNET, put on BRIDGE: the kubelet refuses a loopback node IP),
#   KUBELET_PORT (10250), KUBELET_HEALTHZ_PORT (10248),
#   KUBELET_CLIENT_CA (file; default: the CA of KUBECONFIG), KUBELET_V (2),
#   REGISTRY_ADDR (127.0.0.1:5000, mirror for docker.io/ghcr.io/registry.k8s.io),
#   READY_TIMEOUT (120 s), KEEP_NODE (0: `stop` deletes the Node object),
#   K8S_BIN_DIR (default: from build-binaries.sh kubelet kubectl),
#   CGROUP_ROOT (/: pods under /kubepods in every cgroup hierarchy),
#   NODE_SLOT (unset). NODE_SLOT=N (1-254) or NODE_SLOT=auto (the lowest free
#   N, picked under a machine-wide lock) gives the node settings of its own so
#   that SEVERAL nodes can run at once on this machine: BRIDGE=ilk8sN,
#   CNI_NETWORK=ilk8sN, POD_SUBNET=10.88.N.0/24 (NODE_IP 10.88.N.1, the
#   kubelet's port stays KUBELET_PORT on that address), CGROUP_ROOT=/ilk8sN
#   (created and removed here; two kubelets sharing /kubepods would kill each
#   other's pods as orphans), KUBELET_HEALTHZ_PORT=0 (disabled). A slot
#   overrides those six settings. Do not run a node without slot (its
#   10.88.0.0/16 covers every slot's subnet) next to slotted ones.
#   ILK8S_NODES_DIR (/run/interlink-k8s-nodes): the machine-wide registry of
#   running nodes (lock, one entry per node, the host settings to restore
#   when the last node stops).
#
# Requirements: root; node-prereqs.sh (containerd, runc, CNI plugins);
# build-images.sh (pause + busybox in the local registry, which this script
# starts if needed and leaves running: `registry.sh stop` stops it).
#
# The control plane must reach the kubelet for logs/exec: give kube-apiserver
#   --kubelet-preferred-address-types=InternalIP   (the node's Hostname does
#       not resolve; the default order tries it first, through DNS)
#   --kubelet-client-certificate/--kubelet-client-key signed by the CA the
#       kubelet trusts (KUBELET_CLIENT_CA), for a user allowed nodes/proxy
#       (system:masters, or bound to system:kubelet-api-admin).
set -euo pipefail

cmd="${1:-}"
DIR="${2:-}"
if [ -z "$cmd" ] || [ -z "$DIR" ]; then sed -n '2,16p' "$0" >&2; exit 2; fi
DIR="$(realpath -m "$DIR")"
case "$DIR" in *' '*) echo "DIR must not contain spaces" >&2; exit 2 ;; /) echo "DIR must not be /" >&2; exit 2 ;; esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# stop/status use the settings start was given (saved in DIR/node.env).
# shellcheck source=/dev/null # written by start
if [ "$cmd" != start ] && [ -f "$DIR/node.env" ]; then . "$DIR/node.env"; fi
NODE_NAME="${NODE_NAME:-remote-node}"
POD_SUBNET="${POD_SUBNET:-10.88.0.0/16}"
BRIDGE="${BRIDGE:-ilk8s0}"
CNI_NETWORK="${CNI_NETWORK:-ilk8s}"
KUBELET_PORT="${KUBELET_PORT:-10250}"
KUBELET_HEALTHZ_PORT="${KUBELET_HEALTHZ_PORT:-10248}"
KUBELET_V="${KUBELET_V:-2}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
KEEP_NODE="${KEEP_NODE:-0}"
CGROUP_ROOT="${CGROUP_ROOT:-/}"
NODE_SLOT="${NODE_SLOT:-}"
SOCK="$DIR/containerd.sock"
STATE="$DIR/host-state"        # this node's record of the host before start (netns list)
NODES_DIR="${ILK8S_NODES_DIR:-/run/interlink-k8s-nodes}"
HOST_STATE="$NODES_DIR/host-state"   # the host before the first running node (shared)
NODE_KEY=$(printf '%s' "$DIR" | md5sum | cut -c1-16)
prefix="${POD_SUBNET%/*}"; plen="${POD_SUBNET#*/}"
NODE_IP="${NODE_IP:-${prefix%.*}.$(( ${prefix##*.} + 1 ))}"

# apply_slot N: the settings of slot N (see NODE_SLOT above).
apply_slot() {
  NODE_SLOT="$1"
  BRIDGE="ilk8s$1"; CNI_NETWORK="ilk8s$1"; POD_SUBNET="10.88.$1.0/24"; NODE_IP="10.88.$1.1"
  KUBELET_HEALTHZ_PORT=0; CGROUP_ROOT="/ilk8s$1"
  prefix="${POD_SUBNET%/*}"; plen="${POD_SUBNET#*/}"
}
case "$NODE_SLOT" in
  ''|auto) ;;
  *[!0-9]*) echo "NODE_SLOT must be a number from 1 to 254 or auto, got $NODE_SLOT" >&2; exit 2 ;;
  *) { [ "$NODE_SLOT" -ge 1 ] && [ "$NODE_SLOT" -le 254 ]; } || { echo "NODE_SLOT must be from 1 to 254" >&2; exit 2; }
     apply_slot "$NODE_SLOT" ;;
esac
case "$CGROUP_ROOT" in /|/[A-Za-z0-9]*) ;; *) echo "CGROUP_ROOT must be / or an absolute cgroup path" >&2; exit 2 ;; esac

log() { printf '[remote-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

# A live process (not a zombie: our daemons are reparented to PID 1, which
# may reap them late, so /proc/PID outlives a killed daemon for a while).
alive() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$st" ] && [ "${st%% *}" != Z ]; }
pid_alive() { [ -f "$1" ] && alive "$(cat "$1")"; }

# -- the machine-wide registry of running nodes (NODES_DIR) -------------------
# One file per node (nodes/<md5 of DIR>) holding its DIR. A node counts as
# running while its bridge exists (made under the lock before it registers,
# deleted by stop) or its containerd/kubelet lives.
lock_nodes() { mkdir -p "$NODES_DIR/nodes"; exec 8>"$NODES_DIR/.lock"; flock -w 300 8 || die "could not lock $NODES_DIR/.lock"; }
unlock_nodes() { exec 8>&-; }
node_running() {  # DIR of another node
  local d="$1" b
  [ -d "$d" ] || return 1
  pid_alive "$d/containerd.pid" && return 0
  pid_alive "$d/kubelet.pid" && return 0
  b=$(sed -n 's/^BRIDGE=//p' "$d/node.env" 2>/dev/null || true)
  [ -n "$b" ] && ip link show "$b" >/dev/null 2>&1
}
# Other running nodes (their DIRs); forgets entries of nodes that are gone.
other_nodes() {
  local f d
  for f in "$NODES_DIR"/nodes/*; do
    [ -f "$f" ] || continue
    d=$(cat "$f")
    [ "$d" = "$DIR" ] && continue
    if node_running "$d"; then echo "$d"; else rm -f "$f"; fi
  done
  return 0
}
# The lowest slot whose bridge does not exist and whose subnet no route covers.
free_slot() {
  local n routes
  for n in $(seq 1 254); do
    ip link show "ilk8s$n" >/dev/null 2>&1 && continue
    routes=$(ip -4 -o route show match "10.88.$n.1")
    routes=$(grep -v '^default' <<<"$routes" || true)
    [ -z "$routes" ] || continue
    echo "$n"; return 0
  done
  return 1
}

# The cgroup directories holding this node's pods, one per mounted hierarchy:
# CGROUP_ROOT/kubepods when CGROUP_ROOT is /, else CGROUP_ROOT itself.
cgroup_mounts() { awk '$3=="cgroup"||$3=="cgroup2"{print $2}' /proc/self/mounts; }
cg_tops() {
  local m
  for m in $(cgroup_mounts); do
    if [ "$CGROUP_ROOT" = / ]; then echo "$m/kubepods"; else echo "$m$CGROUP_ROOT"; fi
  done
}
# CGROUP_ROOT must exist in every hierarchy before the kubelet starts.
make_cgroup_root() {
  [ "$CGROUP_ROOT" != / ] || return 0
  local m type opts f
  while read -r _ m type opts _; do
    case "$type" in
      cgroup)
        mkdir -p "$m$CGROUP_ROOT"
        case ",$opts," in *,cpuset,*)
          # a new cpuset cgroup starts with no CPUs and no memory nodes
          for f in cpuset.cpus cpuset.mems; do
            [ -n "$(cat "$m$CGROUP_ROOT/$f")" ] || cat "$m/$f" > "$m$CGROUP_ROOT/$f"
          done ;;
        esac ;;
      cgroup2)
        # hybrid hierarchy (…/unified): runc creates what it needs there
        [ "$m" = /sys/fs/cgroup ] || continue
        mkdir -p "$m$CGROUP_ROOT"
        local controllers=()
        read -ra controllers < "$m/cgroup.subtree_control" || true
        for f in "${controllers[@]}"; do echo "+$f" > "$m$CGROUP_ROOT/cgroup.subtree_control" 2>/dev/null || true; done ;;
    esac
  done < /proc/self/mounts
}

# daemon NAME LOGFILE CMD...: start CMD in its own session with every
# inherited descriptor above 2 closed (a caller's lock or pipe kept open by a
# daemon would block that caller), pid in DIR/NAME.pid.
daemon() {
  local name="$1" logf="$2"; shift 2
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec setsid "$@" >>"$logf" 2>&1 < /dev/null
  ) &
  echo $! > "$DIR/$name.pid"
}

# stop_pid NAME [TIMEOUT]: SIGTERM, then SIGKILL after TIMEOUT seconds.
stop_pid() {
  local f="$DIR/$1.pid" t="${2:-15}" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    log "stopping $1 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((t * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then log "$1 did not exit: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  # dead; give PID 1 a few seconds to reap it (so that pgrep shows nothing)
  for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  rm -f "$f"
}

kubectl_() { "$K8S_BIN_DIR/kubectl" --kubeconfig="$DIR/kubelet.kubeconfig" --request-timeout=10s "$@"; }
ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }

# Processes whose command line names our containerd socket (the shims).
our_shims() {
  local p cl
  for p in /proc/[0-9]*; do
    cl=$(tr '\0' '\n' 2>/dev/null < "$p/cmdline") || continue
    # (no `tr | grep -q`: with pipefail a SIGPIPE on tr would read as "no match")
    case "$cl" in *containerd-shim*) grep -qxF "$SOCK" <<<"$cl" && echo "${p#/proc/}" ;; esac
  done
  return 0
}

find_bins() {
  if [ -z "${K8S_BIN_DIR:-}" ]; then
    K8S_BIN_DIR=$(bash "$HERE/build-binaries.sh" kubelet kubectl | tail -n1)
  fi
  if [ ! -x "$K8S_BIN_DIR/kubelet" ] || [ ! -x "$K8S_BIN_DIR/kubectl" ]; then die "kubelet/kubectl missing in $K8S_BIN_DIR"; fi
}

# ---------------------------------------------------------------------------
start() {
  local KC="${1:-}" URL="${2:-}"
  if [ -z "$KC" ] || [ -z "$URL" ]; then die "usage: $0 start DIR KUBECONFIG APISERVER_URL"; fi
  [ -f "$KC" ] || die "no kubeconfig at $KC"
  for t in containerd containerd-shim-runc-v2 runc ctr ip iptables mount sysctl; do
    command -v "$t" >/dev/null || die "$t is missing: run node-prereqs.sh"
  done
  for p in bridge host-local portmap loopback; do
    [ -x "/usr/lib/cni/$p" ] || die "/usr/lib/cni/$p is missing: run node-prereqs.sh (containernetworking-plugins)"
  done
  find_bins
  if pid_alive "$DIR/kubelet.pid" && pid_alive "$DIR/containerd.pid"; then
    log "already running (containerd pid $(cat "$DIR/containerd.pid"), kubelet pid $(cat "$DIR/kubelet.pid"))"
    echo "$NODE_NAME"
    return 0
  fi
  local t_all=$SECONDS
  mkdir -p "$DIR"/{containerd/root,containerd/state,containerd/opt,runc,cni/net.d,cni/ipam,kubelet,pod-logs,pki,certs.d}

  # Until the bridge exists and the node is registered, other starts and
  # stops on this machine wait (slot choice, host settings).
  lock_nodes
  if [ "$NODE_SLOT" = auto ]; then
    local saved; saved=$(sed -n 's/^NODE_SLOT=//p' "$DIR/node.env" 2>/dev/null || true)
    if [ -n "$saved" ] && [ "$saved" != auto ] && ip link show "ilk8s$saved" >/dev/null 2>&1; then
      apply_slot "$saved"     # a restart of this DIR: same slot
    else
      local n; n=$(free_slot) || die "no free node slot (bridges ilk8s1-254 all exist)"
      apply_slot "$n"
    fi
    log "slot $NODE_SLOT: bridge $BRIDGE, pod subnet $POD_SUBNET, cgroup root $CGROUP_ROOT"
  fi
  local v
  for v in NODE_NAME NODE_SLOT POD_SUBNET BRIDGE CNI_NETWORK NODE_IP KUBELET_PORT KUBELET_HEALTHZ_PORT CGROUP_ROOT REGISTRY_ADDR K8S_BIN_DIR; do
    printf '%s=%q\n' "$v" "${!v}"
  done > "$DIR/node.env"

  # -- what the host looks like now, so that the last stop can restore it --
  # Recorded by the first node only: a later one would see the first one's
  # settings. (Kept when no node runs but it exists: the nodes that changed
  # the host were never stopped, and it still holds the original settings.)
  if [ ! -f "$HOST_STATE/recorded" ]; then
    mkdir -p "$HOST_STATE"
    sysctl -n net.ipv4.ip_forward > "$HOST_STATE/ip_forward"
    findmnt -n -o PROPAGATION / > "$HOST_STATE/root_propagation"
    findmnt -rn -o PROPAGATION | sort | uniq -c > "$HOST_STATE/all_propagation"
    : > "$HOST_STATE/existed"
    for d in /run/containerd /var/run/netns /var/lib/cni /var/log/containers /var/log/pods; do
      if [ -e "$d" ]; then echo "$d" >> "$HOST_STATE/existed"; fi
    done
    touch "$HOST_STATE/recorded"
  fi
  if [ ! -f "$STATE/recorded" ]; then
    mkdir -p "$STATE"
    ls -1 /var/run/netns 2>/dev/null > "$STATE/netns.before" || true
    touch "$STATE/recorded"
  fi

  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    local routes
    if [ -n "$NODE_SLOT" ]; then
      routes=$(ip -4 -o route show match "$NODE_IP"); routes=$(grep -v '^default' <<<"$routes" || true)
    else
      routes=$(ip -4 route show "$POD_SUBNET")
    fi
    [ -z "$routes" ] || die "$POD_SUBNET is already routed on this host ($routes): set POD_SUBNET or NODE_SLOT"
  fi

  # -- host settings the kubelet and CNI need -------------------------------
  [ "$(sysctl -n net.ipv4.ip_forward)" = 1 ] || { log "sysctl net.ipv4.ip_forward=1"; sysctl -qw net.ipv4.ip_forward=1; }
  if [ "$(findmnt -n -o PROPAGATION /)" != shared ]; then
    log "mount --make-rshared /   (kubelet needs shared mount propagation)"
    mount --make-rshared /
  fi

  # -- the pod network's bridge, made now so that the kubelet can listen on
  #    NODE_IP (kubelet rejects a loopback node IP; this address stays local)
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "bridge $BRIDGE with $NODE_IP/$plen"
    ip link add "$BRIDGE" type bridge
  fi
  local addrs; addrs=$(ip -4 -o addr show dev "$BRIDGE")
  grep -qF " $NODE_IP/" <<<"$addrs" || ip addr add "$NODE_IP/$plen" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  make_cgroup_root
  echo "$DIR" > "$NODES_DIR/nodes/$NODE_KEY"
  unlock_nodes

  # -- containerd ---------------------------------------------------------
  local reg
  for reg in docker.io ghcr.io registry.k8s.io; do
    mkdir -p "$DIR/certs.d/$reg"
    # server = the mirror too: no fall-back to the real registry (no traffic
    # leaves the machine; a missing image fails fast instead).
    cat > "$DIR/certs.d/$reg/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDR"

[host."http://$REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
EOF
  done
  cat > "$DIR/containerd.toml" <<EOF
# containerd 1.6 for remote-node.sh (generated)
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$DIR/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$DIR/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10"
    # REQUIRED here: no CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj;
    # without it every sandbox fails with "can't get final child's PID from pipe: EOF".
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$DIR/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$DIR/cni/net.d"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$DIR/certs.d"
EOF
  # loopback is added by containerd's CRI itself (from bin_dir).
  cat > "$DIR/cni/net.d/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_SUBNET", "gateway": "$NODE_IP" }]],
        "dataDir": "$DIR/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  if ! pid_alive "$DIR/containerd.pid"; then
    rm -f "$SOCK"
    log "starting containerd $(containerd --version | awk '{print $3}') (log $DIR/containerd.log)"
    daemon containerd "$DIR/containerd.log" containerd --config "$DIR/containerd.toml"
    for _ in $(seq 1 100); do
      [ -S "$SOCK" ] && ctr -a "$SOCK" version >/dev/null 2>&1 && break
      pid_alive "$DIR/containerd.pid" || { tail -n 30 "$DIR/containerd.log" >&2; die "containerd exited"; }
      sleep 0.2
    done
    ctr -a "$SOCK" version >/dev/null 2>&1 || { tail -n 30 "$DIR/containerd.log" >&2; die "containerd did not answer on $SOCK"; }
  fi
  if ! curl -fsS -m 3 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; then
    REGISTRY_ADDR="$REGISTRY_ADDR" bash "$HERE/registry.sh" start >/dev/null
  fi

  # -- kubelet ----------------------------------------------------------------
  "$K8S_BIN_DIR/kubectl" --kubeconfig="$KC" config view --raw --flatten --minify > "$DIR/kubelet.kubeconfig"
  chmod 600 "$DIR/kubelet.kubeconfig"
  local cluster
  cluster=$(kubectl_ config view -o jsonpath='{.clusters[0].name}')
  kubectl_ config set-cluster "$cluster" --server="$URL" >/dev/null
  local ca="${KUBELET_CLIENT_CA:-}"
  if [ -z "$ca" ]; then
    kubectl_ config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$DIR/pki/client-ca.crt" || true
    [ -s "$DIR/pki/client-ca.crt" ] && ca="$DIR/pki/client-ca.crt"
  fi
  [ -n "$ca" ] || log "WARNING: no client CA for the kubelet (KUBELET_CLIENT_CA): only bearer tokens will authenticate"
  printf 'nameserver 127.0.0.1\noptions ndots:1\n' > "$DIR/resolv.conf"
  cat > "$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
podLogsDir: $DIR/pod-logs
resolvConf: $DIR/resolv.conf
makeIPTablesUtilChains: false
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
    cacheTTL: 10s
  x509:
    clientCAFile: "${ca}"
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 10s
    cacheUnauthorizedTTL: 5s
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  imagefs.available: 2%
  nodefs.inodesFree: 2%
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
nodeStatusUpdateFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 0s
EOF
  if ! pid_alive "$DIR/kubelet.pid"; then
    log "starting kubelet $("$K8S_BIN_DIR/kubelet" --version | awk '{print $2}') as node $NODE_NAME ($NODE_IP:$KUBELET_PORT, log $DIR/kubelet.log)"
    daemon kubelet "$DIR/kubelet.log" "$K8S_BIN_DIR/kubelet" \
      --config="$DIR/kubelet.yaml" \
      --kubeconfig="$DIR/kubelet.kubeconfig" \
      --root-dir="$DIR/kubelet" \
      --cert-dir="$DIR/kubelet/pki" \
      --hostname-override="$NODE_NAME" \
      --node-ip="$NODE_IP" \
      --v="$KUBELET_V"
  fi

  log "waiting for node $NODE_NAME to be Ready (up to ${READY_TIMEOUT}s)"
  local t0=$SECONDS ready=""
  while [ $((SECONDS - t0)) -lt "$READY_TIMEOUT" ]; do
    pid_alive "$DIR/kubelet.pid" || { tail -n 40 "$DIR/kubelet.log" >&2; die "kubelet exited"; }
    ready=$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
    [ "$ready" = True ] && break
    sleep 1
  done
  if [ "$ready" != True ]; then
    kubectl_ get node "$NODE_NAME" -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.message}{"\n"}{end}' >&2 || true
    tail -n 40 "$DIR/kubelet.log" >&2
    die "node $NODE_NAME not Ready after ${READY_TIMEOUT}s"
  fi
  log "node $NODE_NAME Ready in $((SECONDS - t0)) s (start total $((SECONDS - t_all)) s)"
  echo "$NODE_NAME"
}

# ---------------------------------------------------------------------------
ip2int() { local a b c d; IFS=. read -r a b c d <<< "$1"; echo $(( (a << 24) + (b << 16) + (c << 8) + d )); }
in_pod_subnet() {  # IP
  local mask=$(( (0xffffffff << (32 - plen)) & 0xffffffff ))
  [ $(( $(ip2int "$1") & mask )) -eq $(( $(ip2int "$prefix") & mask )) ]
}
# Network namespaces named in the OCI specs of our containerd's tasks (read
# once at the beginning of stop: deleting the tasks removes those files).
OUR_NETNS=""
read_our_netns() {
  local f
  for f in "$DIR"/containerd/state/io.containerd.runtime.v2.task/k8s.io/*/config.json; do
    [ -f "$f" ] || continue
    # (app containers join the sandbox's netns by /proc path: no match, not an error)
    OUR_NETNS+="$(grep -o '/var/run/netns/cni-[0-9a-f-]*' "$f" 2>/dev/null | sed 's|.*/||' || true)"$'\n'
  done
  return 0
}
# CRI network namespaces of our pods. Alone on the machine: the cni-* entries
# made since start (or, when start's record is gone, those holding an address
# of POD_SUBNET). With other nodes running: only those named by our tasks or
# holding an address of POD_SUBNET.
new_netns() {
  local n a ours alone=1
  [ -z "$(other_nodes)" ] || alone=0
  for n in /var/run/netns/cni-*; do
    [ -e "$n" ] || continue
    n=${n##*/}
    if [ -f "$STATE/netns.before" ]; then
      grep -qxF "$n" "$STATE/netns.before" && continue
      [ "$alone" = 0 ] || { echo "$n"; continue; }
    fi
    ours=0
    grep -qxF "$n" <<<"$OUR_NETNS" && ours=1
    for a in $(ip -n "$n" -4 -o addr show 2>/dev/null | awk '{print $4}'); do
      in_pod_subnet "${a%/*}" && ours=1
    done
    [ "$ours" = 0 ] || echo "$n"
  done
  return 0
}

# iptables: delete every rule whose comment names our CNI network (portmap's
# "dnat name: ..." jumps, bridge masquerade rules), then, up to a fixed point,
# the CNI-* chains that are empty or no longer referenced, and portmap's
# shared chains (CNI-HOSTPORT-*) once no hostPort DNAT rule is left in them.
# A proper CNI DEL leaves those shared chains behind too.
ipt_chains() { iptables -t "$1" -S | awk '$1=="-N"||$1=="-P"{print $2}'; }
ipt_rules() { iptables -t "$1" -S "$2" 2>/dev/null | grep -c '^-A' || true; }
ipt_refs() {
  iptables -t "$1" -S | awk -v c="$2" '$1=="-A" && $2!=c { for (i=3;i<NF;i++) if (($i=="-j"||$i=="-g") && $(i+1)==c) n++ } END {print n+0}'
}
ipt_drop_jumps() {  # TABLE CHAIN: delete the rules jumping to CHAIN
  local c2 nums n
  for c2 in $(ipt_chains "$1"); do
    nums=$(iptables -t "$1" -L "$c2" -n --line-numbers | awk -v c="$2" 'NR>2 && $2==c {print $1}' | sort -rn)
    for n in $nums; do iptables -t "$1" -D "$c2" "$n"; done
  done
}
clean_iptables() {  # [sweep: 1 (default) also removes the CNI-* chains left empty]
  local tbl chain nums n changed hostports sweep="${1:-1}"
  for tbl in nat filter mangle; do
    iptables -t "$tbl" -S >/dev/null 2>&1 || continue
    for chain in $(ipt_chains "$tbl"); do
      nums=$(iptables -t "$tbl" -L "$chain" -n --line-numbers 2>/dev/null \
        | awk -v pat="name: \"$CNI_NETWORK\"" 'index($0, pat) {print $1}' | sort -rn)
      for n in $nums; do iptables -t "$tbl" -D "$chain" "$n"; done
    done
    # (another node's chains may be empty for a moment while CNI fills them)
    [ "$sweep" = 1 ] || continue
    changed=1
    while [ "$changed" = 1 ]; do
      changed=0
      hostports=0
      if grep -qx CNI-HOSTPORT-DNAT <<<"$(ipt_chains "$tbl")" && [ "$(ipt_rules "$tbl" CNI-HOSTPORT-DNAT)" != 0 ]; then hostports=1; fi
      for chain in $(ipt_chains "$tbl" | grep '^CNI-' || true); do
        case "$chain" in
          CNI-HOSTPORT-MASQ|CNI-HOSTPORT-SETMARK|CNI-HOSTPORT-SNAT) [ "$hostports" = 0 ] || continue ;;
          *) [ "$(ipt_rules "$tbl" "$chain")" = 0 ] || [ "$(ipt_refs "$tbl" "$chain")" = 0 ] || continue ;;
        esac
        ipt_drop_jumps "$tbl" "$chain"
        iptables -t "$tbl" -F "$chain"
        iptables -t "$tbl" -X "$chain" && changed=1 && log "removed iptables chain $tbl/$chain"
      done
    done
  done
}

stop() {
  local t_all=$SECONDS
  read_our_netns
  K8S_BIN_DIR="${K8S_BIN_DIR:-}"
  [ -n "$K8S_BIN_DIR" ] || K8S_BIN_DIR=$(bash "$HERE/build-binaries.sh" kubectl 2>/dev/null | tail -n1 || true)
  local api=0
  if [ -f "$DIR/kubelet.kubeconfig" ] && [ -x "$K8S_BIN_DIR/kubectl" ] \
     && kubectl_ get node "$NODE_NAME" -o name >/dev/null 2>&1; then
    api=1
  fi
  # 1. Let the kubelet tear the pods down properly (CRI StopPodSandbox runs
  #    the CNI DEL: veth, IPAM, portmap rules) while the API still answers.
  if [ "$api" = 1 ] && pid_alive "$DIR/kubelet.pid"; then
    local pods
    pods=$(kubectl_ get pods -A --field-selector "spec.nodeName=$NODE_NAME" -o name 2>/dev/null | wc -l)
    if [ "$pods" -gt 0 ]; then
      log "deleting the $pods pod(s) bound to $NODE_NAME"
      kubectl_ delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
      local t0=$SECONDS
      while [ $((SECONDS - t0)) -lt 30 ]; do
        [ -z "$(new_netns)" ] && [ "$(ctr_ tasks ls 2>/dev/null | awk 'NR>1 && $3=="RUNNING"' | wc -l)" = 0 ] && break
        sleep 1
      done
      log "kubelet stopped the pods in $((SECONDS - t0)) s"
    fi
  fi
  # 2. kubelet
  stop_pid kubelet 20
  # 3. whatever is still running in containerd: kill its processes
  if pid_alive "$DIR/containerd.pid"; then
    local ids id
    ids=$(ctr_ tasks ls -q 2>/dev/null || true)
    if [ -n "$ids" ]; then
      log "killing $(echo "$ids" | wc -l) leftover container task(s)"
      for id in $ids; do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
      sleep 1
      for id in $ids; do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    fi
    for id in $(ctr_ containers ls -q 2>/dev/null || true); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  # 4. processes left in the kubelet's cgroups (kubepods), then those cgroups
  local cg pids
  for cg in $(cg_tops); do
    [ -d "$cg" ] || continue
    pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    if [ -n "$pids" ]; then
      local pid_list
      mapfile -t pid_list <<< "$pids"
      log "killing leftover pod processes: ${pid_list[*]}"
      kill -9 "${pid_list[@]}" 2>/dev/null || true
    fi
  done
  # 5. containerd, then its shims
  stop_pid containerd 15
  local shims
  shims=$(our_shims)
  if [ -n "$shims" ]; then
    local shim_list
    mapfile -t shim_list <<< "$shims"
    log "killing leftover shims: ${shim_list[*]}"
    kill -9 "${shim_list[@]}" 2>/dev/null || true
    # they are reparented to PID 1: wait until it has reaped them
    local s
    for s in $shims; do
      for _ in $(seq 1 100); do [ -d "/proc/$s" ] || break; sleep 0.1; done
    done
  fi
  for cg in $(cg_tops); do
    [ -d "$cg" ] || continue
    for _ in 1 2 3 4 5; do find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; [ -d "$cg" ] || break; sleep 0.5; done
    [ -d "$cg" ] && log "WARNING: could not remove cgroup $cg"
  done
  # 6. mounts under DIR (rootfs overlays, sandbox /dev/shm, pod volumes)
  local m
  for m in $(findmnt -rn -o TARGET | awk -v d="$DIR/" 'index($0, d) == 1' | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "WARNING: cannot unmount $m"
  done
  # 7. network namespaces made for our pods, the bridge, CNI state and rules
  local ns
  for ns in $(new_netns); do log "deleting netns $ns"; ip netns delete "$ns" 2>/dev/null || { umount "/var/run/netns/$ns" 2>/dev/null; rm -f "/var/run/netns/$ns"; }; done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then log "deleting bridge $BRIDGE"; ip link delete "$BRIDGE"; fi
  # 8. the API objects: pods still bound to the node (kubelet was dead) and the Node
  if [ "$api" = 1 ] && [ "$KEEP_NODE" != 1 ]; then
    kubectl_ delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
    if kubectl_ delete node "$NODE_NAME" --wait=false >/dev/null 2>&1; then log "deleted Node $NODE_NAME and its pods"; fi
  fi
  # From here on what other nodes may share: under the machine-wide lock, and
  # the shared parts only when no other node runs.
  lock_nodes
  rm -f "$NODES_DIR/nodes/$NODE_KEY"
  local others alone=1
  others=$(other_nodes)
  if [ -n "$others" ]; then alone=0; log "other nodes still running on this machine: ${others//$'\n'/ }"; fi
  clean_iptables "$alone"
  # libcni's cached results (/var/lib/cni/results/<net>-<sandbox>-eth0 and
  # cni-loopback-<sandbox>-lo) of our sandboxes: left when no CNI DEL ran.
  local sb
  for sb in "$DIR"/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*; do
    [ -e "$sb" ] || continue
    sb=${sb##*/}
    rm -f "/var/lib/cni/results/$CNI_NETWORK-$sb-eth0" "/var/lib/cni/results/cni-loopback-$sb-lo"
  done
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  rm -rf "$DIR/cni/ipam"
  # CRI's per-sandbox/container dirs: their containers are gone from containerd.
  rm -rf "$DIR/containerd/root/io.containerd.grpc.v1.cri/sandboxes" "$DIR/containerd/root/io.containerd.grpc.v1.cri/containers" \
         "$DIR/containerd/state/io.containerd.grpc.v1.cri" "$DIR/containerd/state/io.containerd.runtime.v2.task"
  # Shim sockets (containerd 1.6 puts them in /run/containerd/s whatever its
  # state dir): remove those no process has bound any more.
  local sk
  for sk in /run/containerd/s/*; do
    [ -S "$sk" ] || continue
    grep -qF " $sk" /proc/net/unix || rm -f "$sk"
  done
  find /var/log/containers -maxdepth 1 -type l -lname "$DIR/*" -delete 2>/dev/null || true
  if [ "$alone" = 1 ]; then
    # 9. host directories that did not exist before the first node, if now empty
    local d
    for d in /var/lib/cni/results /var/lib/cni/networks /var/lib/cni /var/log/containers /var/log/pods /var/run/netns /run/containerd/s /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd/fifo /run/containerd; do
      [ -e "$d" ] || continue
      [ -f "$HOST_STATE/existed" ] || continue
      grep -qxF "$d" "$HOST_STATE/existed" && continue
      case "$d" in /run/containerd*) grep -qxF /run/containerd "$HOST_STATE/existed" && continue ;; esac
      case "$d" in /var/lib/cni/*) grep -qxF /var/lib/cni "$HOST_STATE/existed" && continue ;; esac
      if [ "$d" = /var/run/netns ] && mountpoint -q "$d"; then if [ -z "$(ls -A "$d")" ]; then umount "$d" 2>/dev/null || true; fi; fi
      find "$d" -depth -type d -empty -delete 2>/dev/null || true
      [ -e "$d" ] && log "kept $d (not empty)"
    done
    # 10. host settings changed by the first node's start
    if [ -f "$HOST_STATE/recorded" ]; then
      if [ "$(cat "$HOST_STATE/ip_forward")" != "$(sysctl -n net.ipv4.ip_forward)" ]; then
        log "restoring net.ipv4.ip_forward=$(cat "$HOST_STATE/ip_forward")"
        sysctl -qw "net.ipv4.ip_forward=$(cat "$HOST_STATE/ip_forward")"
      fi
      # Only when every mount was private before (then rprivate restores it exactly).
      if [ "$(cat "$HOST_STATE/root_propagation")" = private ] && [ "$(awk '{print $2}' "$HOST_STATE/all_propagation" | sort -u)" = private ] \
         && [ "$(findmnt -n -o PROPAGATION /)" != private ]; then
        log "restoring mount propagation: mount --make-rprivate /"
        mount --make-rprivate /
      fi
      rm -rf "$HOST_STATE"
    fi
  fi
  unlock_nodes
  rm -rf "$STATE"
  rm -f "$SOCK" "$SOCK.ttrpc"
  log "stopped in $((SECONDS - t_all)) s"
}

status() {
  local s=0
  for n in containerd kubelet; do
    if pid_alive "$DIR/$n.pid"; then echo "$n: running (pid $(cat "$DIR/$n.pid"))"; else echo "$n: stopped"; s=1; fi
  done
  return $s
}

# One start or stop of a DIR at a time (a watchdog's stop after its owner
# died waits for the owner's start or stop still running, then does its own).
# fd 7: the daemons close every descriptor above 2, so none keeps it.
lock_dir() { exec 7>"$DIR/.lock"; flock -w 600 7 || die "could not lock $DIR/.lock"; }

case "$cmd" in
  start) mkdir -p "$DIR"; lock_dir; start "${3:-}" "${4:-}" ;;
  stop)
    # Without node.env no start ever ran here (or the DIR is gone): the
    # defaults below would name another node's bridge and cgroups.
    if [ ! -f "$DIR/node.env" ]; then log "no node in $DIR (no node.env): nothing to stop"; exit 0; fi
    lock_dir; stop ;;
  status) status ;;
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
