// Real control plane: etcd, kube-apiserver and kube-controller-manager on loopback
export { resolveBinDir, startControlPlane } from './control-plane.js';
export type { ControlPlane, ControlPlaneOptions } from './control-plane.js';

// The control plane shared by one e2e jest run
export { TEST_KUBECONFIG_ENV, testKubeconfigPath } from './test-env.js';
