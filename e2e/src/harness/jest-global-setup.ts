import { registerHooks } from 'node:module';
import type { ControlPlane } from './control-plane.js';

// Also spelled out in jest-global-teardown.ts, which cannot import this file
// (same loader limitation as below, and it needs nothing else).
const GLOBAL_KEY = 'interlink-k8s.e2e.remote-control-plane';

/**
 * jest global setup of the e2e package: starts the one control plane named
 * `remote` that the integration tests share, publishes its admin kubeconfig in
 * `INTERLINK_K8S_TEST_KUBECONFIG` (see `testKubeconfigPath()`), and leaves it
 * on `globalThis` for the global teardown.
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
  const controlPlane = await harness.startControlPlane({ name: 'remote' });
  process.env[harness.TEST_KUBECONFIG_ENV] = controlPlane.kubeconfigPath;
  (globalThis as unknown as Record<symbol, ControlPlane | undefined>)[Symbol.for(GLOBAL_KEY)] = controlPlane;
  // stderr, where jest reports too: where the cluster lives matters when a test fails.
  process.stderr.write(
    `\n[e2e] control plane "remote" ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${controlPlane.apiServerUrl} (${controlPlane.dir})\n`,
  );
}
