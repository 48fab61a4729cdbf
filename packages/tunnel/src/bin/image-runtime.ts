/**
 * How the tunnel image runs `node` for the gateway and the bastion
 * (`docker/tunnel.Dockerfile`: its ENTRYPOINT flags and its ENV). The
 * benchmark runs both processes the same way by default, so does the e2e
 * suite's gateway (both import these from the package root), and a test
 * keeps these in step with the Dockerfile.
 *
 * What each costs and saves, measured, is in docs/benchmarks.md (Tunnel);
 * why the gateway has a memory budget at all is
 * docs/adr/0010-gateway-memory-budget.md.
 *
 * - `--max-semi-space-size=1`: V8's young generation keeps its smallest
 *   semi-spaces instead of growing them; the gateway's RSS with many idle
 *   tunnels is lower, and throughput does not move.
 * - `--external-memory-accounted-in-global-limit`: V8 weighs the memory of
 *   buffers (outside its heap) within its global heap limit, instead of
 *   running a full collection each time it grows by a fixed step. ssh2
 *   allocates a buffer for every packet and Node one for every socket read,
 *   so a busy tunnel otherwise spends a large share of its CPU in full
 *   collections; with it, single-stream throughput is at OpenSSH's level
 *   and peak memory does not grow.
 * - `--no-parallel-scavenge`: with small semi-spaces young collections are
 *   frequent and small; waking V8's helper threads for each costs more than
 *   the work they share (peak memory unchanged).
 * - `--no-maglev --no-sparkplug`: functions run in V8's interpreter until
 *   they are hot enough for TurboFan, without the two tiers in between. On
 *   two CPUs Maglev's many early compilations cost more than they gain:
 *   without either tier the gateway makes more connections per second at
 *   less CPU each, throughput does not move, and it is smaller (less
 *   compiler code touched in the node binary, fewer compiled functions,
 *   less malloc churn).
 * - `MALLOC_ARENA_MAX=1`: glibc keeps one malloc arena instead of one per
 *   thread that allocated (Node's and V8's worker threads): less memory.
 */
export const IMAGE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--external-memory-accounted-in-global-limit',
  '--no-parallel-scavenge',
  '--no-maglev',
  '--no-sparkplug',
];

/** Environment variables the image sets for the runtime (not the application's own). */
export const IMAGE_RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };
