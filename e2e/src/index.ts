// Real-cluster harness for integration tests, the demo and benchmarks
export { resolveBinDir, startControlPlane, TEST_KUBECONFIG_ENV, testKubeconfigPath } from './harness/index.js';
export type { ControlPlane, ControlPlaneOptions } from './harness/index.js';
