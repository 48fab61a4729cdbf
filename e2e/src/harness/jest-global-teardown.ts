import type { ControlPlane } from './control-plane.js';
import type { RemoteNode } from './node.js';

/** jest global teardown of the e2e package: stops the node, then the control plane, that global setup started. */
export default async function globalTeardown(): Promise<void> {
  const slot = globalThis as unknown as Record<symbol, ControlPlane | RemoteNode | undefined>;
  // Same keys as in jest-global-setup.ts; global setup and teardown run in the same process.
  const cpKey = Symbol.for('interlink-k8s.e2e.remote-control-plane');
  const nodeKey = Symbol.for('interlink-k8s.e2e.remote-node');
  const node = slot[nodeKey];
  const controlPlane = slot[cpKey];
  slot[nodeKey] = undefined;
  slot[cpKey] = undefined;
  const t0 = Date.now();
  try {
    // The node first, while the API server answers: its pods are deleted
    // through the kubelet (proper CNI teardown) and the Node object goes.
    await node?.stop();
  } finally {
    await controlPlane?.stop();
  }
  process.stderr.write(`[e2e] node and control plane stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
