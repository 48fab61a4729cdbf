// Real control plane: etcd, kube-apiserver, kube-controller-manager (and kube-scheduler) on loopback
export { CONTROL_PLANE_COMPONENTS, resolveBinDir, startControlPlane } from './control-plane.js';
export type { ControlPlane, ControlPlaneOptions } from './control-plane.js';

// The control plane shared by one e2e jest run
export { TEST_KUBECONFIG_ENV, TEST_NODE_ENV, testKubeconfigPath, testNodeName } from './test-env.js';

// A real node (containerd + kubelet) for a control plane
export { startRemoteNode } from './node.js';
export type { RemoteNode, RemoteNodeOptions } from './node.js';
export { runScript, scriptPath } from './scripts.js';
export type { RunScriptOptions } from './scripts.js';

// Raw JSON calls to an API server (tests read objects as the server has them)
export { rawKube } from './kube-raw.js';
export type { MetaJson, RawAnswer, RawKube } from './kube-raw.js';

// Polling with a deadline, for tests
export { eventually } from './eventually.js';
export type { PollOptions } from './eventually.js';
