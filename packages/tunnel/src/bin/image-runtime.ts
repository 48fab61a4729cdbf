/**
 * How the tunnel image runs `node` for the gateway and the bastion
 * (`docker/tunnel.Dockerfile`: its ENTRYPOINT flags and its ENV). The
 * benchmark runs both processes the same way by default, so does the e2e
 * suite's gateway (both import these from the package root), and a test
 * keeps these in step with the Dockerfile.
 *
 * - `--max-semi-space-size=1`: V8's young generation holds both of its 1 MiB
 *   semi-spaces instead of growing to 2 × 8 MiB; with 200 idle tunnels the
 *   gateway's RSS is ~10 MiB lower, and throughput does not move (see
 *   docs/benchmarks.md).
 * - `--external-memory-accounted-in-global-limit`: V8 weighs the memory of
 *   buffers (outside its heap) within its global heap limit, instead of
 *   running a full collection each time it grows by 64 MiB. ssh2 allocates a
 *   buffer for every packet and Node one for every socket read, so a busy
 *   tunnel ran a full collection every ~35 MiB carried: ~12% of the CPU of
 *   each process. With it, single-stream throughput goes from ~0.75x to
 *   ~1.0x OpenSSH's (docs/benchmarks.md); peak memory does not grow.
 * - `--no-parallel-scavenge`: with 1 MiB semi-spaces young collections are
 *   frequent and small; waking V8's helper threads for each cost more than
 *   the work they share (~6% of the CPU per connection, and less per MiB;
 *   peak memory unchanged).
 * - `--no-maglev --no-sparkplug`: functions run in V8's interpreter until
 *   they are hot enough for TurboFan, without the two tiers in between. On a
 *   2-CPU machine Maglev's many early compilations cost more than they
 *   gain: with neither tier the gateway makes ~4% more connections per
 *   second at less CPU each, throughput does not move, and with 200
 *   tunnels it is ~2 MiB smaller without publishing and 3–4 MiB smaller
 *   while publishing (less compiler code touched in the node binary, fewer
 *   compiled functions, less malloc churn; docs/benchmarks.md).
 * - `MALLOC_ARENA_MAX=1`: glibc keeps one malloc arena instead of one per
 *   thread that allocated (Node's and V8's worker threads); ~3 MiB less.
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
