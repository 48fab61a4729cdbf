/**
 * Environment variable through which the e2e jest global setup hands the admin
 * kubeconfig of the shared `remote` control plane to test files. Jest starts
 * its workers after global setup, so they inherit it (checked with jest 30,
 * both in band and with workers).
 */
export const TEST_KUBECONFIG_ENV = 'INTERLINK_K8S_TEST_KUBECONFIG';

/**
 * Environment variable naming the real node (containerd + kubelet) of the
 * shared `remote` control plane, which also runs kube-scheduler: pods created
 * there are scheduled onto it and really run.
 */
export const TEST_NODE_ENV = 'INTERLINK_K8S_TEST_NODE';

/**
 * Path of the admin kubeconfig of the control plane that the e2e jest global
 * setup started. Throws outside such a run, naming what is missing.
 */
export function testKubeconfigPath(): string {
  const path = process.env[TEST_KUBECONFIG_ENV];
  if (path === undefined || path === '') {
    throw new Error(
      `${TEST_KUBECONFIG_ENV} is not set: run the tests through the e2e jest config, whose global setup starts the control plane`,
    );
  }
  return path;
}

/** Name of the real node of the shared control plane (see {@link TEST_NODE_ENV}). */
export function testNodeName(): string {
  const name = process.env[TEST_NODE_ENV];
  if (name === undefined || name === '') {
    throw new Error(`${TEST_NODE_ENV} is not set: run the tests through the e2e jest config, whose global setup starts the node`);
  }
  return name;
}
