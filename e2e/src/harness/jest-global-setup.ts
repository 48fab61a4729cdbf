import { registerHooks } from 'node:module';
import type { ControlPlane } from './control-plane.js';
import type { RemoteNode } from './node.js';

// Also spelled out in jest-global-teardown.ts, which cannot import this file
// (same loader limitation as below, and it needs nothing else).
const GLOBAL_KEY = 'interlink-k8s.e2e.remote-control-plane';
const NODE_KEY = 'interlink-k8s.e2e.remote-node';

/**
 * jest global setup of the e2e package: starts the one control plane named
 * `remote` that the integration tests share, with kube-scheduler and a REAL
 * node (containerd + kubelet, `startRemoteNode`), so that pods created there
 * run. Publishes its admin kubeconfig in `INTERLINK_K8S_TEST_KUBECONFIG` (see
 * `testKubeconfigPath()`) and the node's name in `INTERLINK_K8S_TEST_NODE`,
 * and leaves both on `globalThis` for the global teardown.
 *
 * Should jest die without running the teardown (crash, Ctrl-C, SIGKILL), the
 * control plane's processes die with it (parent-death signal) and the node's
 * watchdog stops the node (see `startRemoteNode`).
 */
export default async function globalSetup(): Promise<void> {
  // jest loads global setup through require() with its transform, but without
  // moduleNameMapper, so `./x.js` would not find `./x.ts`. This hook adds that
  // one mapping while the harness loads, hence the dynamic import.
  const hooks = registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
        return nextResolve(`${specifier.slice(0, -'.js'.length)}.ts`, context);
      }
    },
  });
  const harness = await import('./index.js').finally(() => {
    hooks.deregister();
  });

  const t0 = Date.now();
  const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
  // stderr, where jest reports too: where the cluster lives matters when a test fails.
  const say = (line: string): void => {
    process.stderr.write(`[e2e] ${line}\n`);
  };
  process.stderr.write('\n');
  const controlPlane = await harness.startControlPlane({ name: 'remote', scheduler: true });
  say(`control plane "remote" ready in ${seconds(t0)} at ${controlPlane.apiServerUrl} (${controlPlane.dir})`);
  const t1 = Date.now();
  let started = false;
  let node: RemoteNode;
  try {
    node = await harness.startRemoteNode(controlPlane, {
      // The scripts' progress while it takes long (a first install or build),
      // then (teardown) only what went wrong.
      log: (line) => {
        const slow = !started && (Date.now() - t1 > 20_000 || /installing|compiling/i.test(line));
        if (slow || /ERROR|WARNING|failed/.test(line)) say(line);
      },
    });
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  started = true;
  say(`node "${node.name}" Ready in ${seconds(t1)} (${node.ip}, ${node.dir}); setup ${seconds(t0)}`);
  process.env[harness.TEST_KUBECONFIG_ENV] = controlPlane.kubeconfigPath;
  process.env[harness.TEST_NODE_ENV] = node.name;
  const slot = globalThis as unknown as Record<symbol, ControlPlane | RemoteNode | undefined>;
  slot[Symbol.for(GLOBAL_KEY)] = controlPlane;
  slot[Symbol.for(NODE_KEY)] = node;
}
