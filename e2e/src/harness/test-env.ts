/**
 * Environment variable through which the e2e jest global setup hands the admin
 * kubeconfig of the shared `remote` control plane to test files. Jest starts
 * its workers after global setup, so they inherit it (checked with jest 30,
 * both in band and with workers).
 */
export const TEST_KUBECONFIG_ENV = 'INTERLINK_K8S_TEST_KUBECONFIG';

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
