import preset from '../jest.preset.js';

/**
 * The integration tests share one real control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) with a real node (containerd +
 * kubelet), started once per run by the global setup (as root); a cluster
 * answers slower than a unit under test, hence the longer timeout.
 * @type {import('jest').Config}
 */
export default {
  ...preset,
  displayName: '@interlink-k8s/e2e',
  globalSetup: '<rootDir>/src/harness/jest-global-setup.ts',
  globalTeardown: '<rootDir>/src/harness/jest-global-teardown.ts',
  testTimeout: 60_000,
};
