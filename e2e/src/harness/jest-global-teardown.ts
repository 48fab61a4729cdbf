import type { ControlPlane } from './control-plane.js';

/** jest global teardown of the e2e package: stops the control plane that global setup started. */
export default async function globalTeardown(): Promise<void> {
  const slot = globalThis as unknown as Record<symbol, ControlPlane | undefined>;
  // Same key as in jest-global-setup.ts; global setup and teardown run in the same process.
  const key = Symbol.for('interlink-k8s.e2e.remote-control-plane');
  const controlPlane = slot[key];
  slot[key] = undefined;
  await controlPlane?.stop();
}
