/** How the kubeconfig's one user authenticates. */
export type KubeconfigCredentials = { kind: 'cert'; certPem: string; keyPem: string } | { kind: 'token'; token: string };

/** What one kubeconfig needs: one cluster, one user. */
export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  credentials: KubeconfigCredentials;
}

/**
 * Renders a self-contained kubeconfig (certificates embedded as `*-data`), so
 * the file stays usable when copied elsewhere or read by another tool.
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  // JSON strings are valid YAML double-quoted scalars: safe for any name.
  const q = (s: string): string => JSON.stringify(s);
  const b64 = (pem: string): string => q(Buffer.from(pem, 'utf8').toString('base64'));
  const context = `${input.userName}@${input.clusterName}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${q(input.clusterName)}`,
    '    cluster:',
    `      server: ${q(input.server)}`,
    `      certificate-authority-data: ${b64(input.caPem)}`,
    'users:',
    `  - name: ${q(input.userName)}`,
    '    user:',
    ...(input.credentials.kind === 'cert'
      ? [`      client-certificate-data: ${b64(input.credentials.certPem)}`, `      client-key-data: ${b64(input.credentials.keyPem)}`]
      : [`      token: ${q(input.credentials.token)}`]),
    'contexts:',
    `  - name: ${q(context)}`,
    '    context:',
    `      cluster: ${q(input.clusterName)}`,
    `      user: ${q(input.userName)}`,
    `current-context: ${q(context)}`,
    '',
  ].join('\n');
}
