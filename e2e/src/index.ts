// Real-cluster harness for integration tests, the demo and benchmarks
export {
  resolveBinDir,
  startControlPlane,
  startRemoteNode,
  TEST_KUBECONFIG_ENV,
  TEST_NODE_ENV,
  testKubeconfigPath,
  testNodeName,
} from './harness/index.js';
export type { ControlPlane, ControlPlaneOptions, RemoteNode, RemoteNodeOptions } from './harness/index.js';
