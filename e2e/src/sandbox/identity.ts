import { writeFile } from 'node:fs/promises';
import { Kubectl, kubectlBinary } from '../charts/chart-tools.js';
import type { ControlPlane, RawKube } from '../harness/index.js';
import { renderKubeconfig } from '../harness/kubeconfig.js';

const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

/**
 * Gives a component the identity a Helm chart gives it: applies the
 * ServiceAccount and RBAC objects of `rendered` (a chart's `helm template`
 * output; everything else in it is ignored) in `namespace` of `cluster`,
 * and writes to `kubeconfigPath` a kubeconfig with a token of that
 * ServiceAccount (valid for a week: a sandbox left up lives for days at
 * most). Throws when the rendering holds no ServiceAccount or more than one.
 */
export async function chartIdentity(cluster: ControlPlane, kube: RawKube, rendered: string, namespace: string, kubeconfigPath: string): Promise<void> {
  const kubectl = new Kubectl(kubectlBinary(), cluster.kubeconfigPath);
  const objects = (await kubectl.objects(rendered)).filter((o) => RBAC_KINDS.includes(o.kind));
  const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
  const [account] = accounts;
  if (account === undefined || accounts.length > 1) {
    throw new Error(`expected one ServiceAccount in the rendered chart, found: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  if ((await kube.call('GET', `/api/v1/namespaces/${namespace}`)).status === 404) {
    await kube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }
  const clusterWide = new Set(['ClusterRole', 'ClusterRoleBinding']);
  const placed = objects.map((o) => (clusterWide.has(o.kind) || o.metadata.namespace !== undefined ? o : { ...o, metadata: { ...o.metadata, namespace } }));
  await kubectl.run(['apply', '--filename=-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: placed }));
  const name = account.metadata.name;
  const token = await kube.ok<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 7 * 24 * 3600 },
  });
  await writeFile(
    kubeconfigPath,
    renderKubeconfig({
      clusterName: cluster.name,
      server: cluster.apiServerUrl,
      caPem: cluster.caPem,
      userName: `system:serviceaccount:${namespace}:${name}`,
      credentials: { kind: 'token', token: token.status.token },
    }),
    { mode: 0o600 },
  );
}
