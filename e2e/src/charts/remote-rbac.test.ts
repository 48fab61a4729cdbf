import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import type { PluginAnswer } from '@interlink-k8s/protocol';
import { toPluginError } from '@interlink-k8s/remote-k8s';
import { rawKube, testKubeconfigPath } from '../harness/index.js';
import { CHARTS_DIR, Kubectl, helmBinary, kubectlBinary, runTool, runToolOk } from './chart-tools.js';
import { eventually, startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';

// The remote-rbac chart installed with `helm install` in the shared real
// control plane, and the plugin (in this process) run with its
// ServiceAccount's token: everything the plugin does works with exactly the
// chart's rules, nothing works without them, and each single verb of them is
// needed: without it, one of the plugin's calls fails with a message naming
// what is missing.

// --- the cluster as the admin sees it ---------------------------------------------

const admin = new KubeConfig();
const api = rawKube(admin);
const kube = api.call;
const kubeOk = api.ok;

interface Meta {
  name: string;
  uid?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface ClusterRoleJson {
  metadata: Meta;
  rules: PolicyRule[];
}

/** A bearer token for a ServiceAccount, from the TokenRequest API (what `kubectl create token` calls). */
async function tokenFor(namespace: string, serviceAccount: string): Promise<string> {
  const answer = await kubeOk<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  );
  return answer.status.token;
}

/** A kubeconfig file for the admin's cluster that authenticates with `token` only. */
async function tokenKubeconfig(dir: string, token: string): Promise<string> {
  const cluster = admin.getCurrentCluster();
  if (cluster?.caData === undefined) throw new Error('the admin kubeconfig has no embedded CA');
  const path = join(dir, `kubeconfig-${randomBytes(4).toString('hex')}.json`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
    users: [{ name: 'plugin', user: { token } }],
    contexts: [{ name: 'plugin', context: { cluster: 'remote', user: 'plugin' } }],
    'current-context': 'plugin',
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

/**
 * Waits until the API server's authorizer (fed by watches) allows every
 * `verb resource` of `rules` to the ServiceAccount, so that a test never
 * races a binding it just made.
 */
async function waitUntilAllowed(namespace: string, serviceAccount: string, rules: readonly PolicyRule[]): Promise<void> {
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
  for (const rule of rules) {
    for (const resourcePath of rule.resources) {
      const [resource, subresource] = resourcePath.split('/');
      for (const verb of rule.verbs) {
        await eventually(`${user} may ${verb} ${resourcePath}`, async () => {
          const review = await kubeOk<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: { user, groups, resourceAttributes: { group: '', resource, subresource, verb } },
          });
          return review.status.allowed ? true : undefined;
        });
      }
    }
  }
}

// --- one run of everything the plugin does ------------------------------------

/** Where `exercise` runs: a kubeconfig and a namespace prefix of its own. */
interface Run {
  kubeconfigPath: string;
  prefix: string;
  /** Wait until the run's node counts for capacity before pinging. */
  checksCapacity?: boolean;
  /** Names the run's local namespaces (`rbac-data-<id>`, `rbac-claim-<id>`) and node; random by default. */
  id?: string;
}

/** What one run saw. */
interface Outcome {
  /** Every failure: non-200 answers, remote errors the plugin reported, a failed sweep, readiness that never came. */
  failures: string[];
  ready: boolean;
  ping: PluginAnswer;
  remoteNamespaces: { withData: string; withClaim: string };
  /** The local pod UIDs. */
  uids: { withData: string; withClaim: string };
}

const NODE_LABEL = 'interlink-e2e/rbac';

/** A Ready node with capacity, tainted so that only the run's own plugin (which tolerates it) counts it. */
async function makeNode(id: string, settled: boolean): Promise<string> {
  const name = `rbac-capacity-${id}`;
  const now = new Date().toISOString();
  const resources = { cpu: '8', memory: '16Gi', pods: '110' };
  await kubeOk('POST', '/api/v1/nodes', {
    metadata: { name, labels: { [NODE_LABEL]: id } },
    spec: { taints: [{ key: NODE_LABEL, value: id, effect: 'NoSchedule' }] },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  });
  // The ping lists nodes from the API server's watch cache (resourceVersion=0): wait until it has this one,
  // and, when the run checks capacity, until the node lifecycle controller has lifted the not-ready taint
  // that admission puts on every new node (a node with a taint the plugin does not tolerate does not count).
  const selector = encodeURIComponent(`${NODE_LABEL}=${id}`);
  await eventually('node in the watch cache', async () => {
    const list = await kubeOk<{ items: { spec?: { taints?: { key: string }[] } }[] }>(
      'GET',
      `/api/v1/nodes?resourceVersion=0&labelSelector=${selector}`,
    );
    const [node] = list.items;
    if (node === undefined) return undefined;
    const foreignTaints = (node.spec?.taints ?? []).filter((t) => t.key !== NODE_LABEL);
    return !settled || foreignTaints.length === 0 ? true : undefined;
  });
  return name;
}

/**
 * A pod as InterLink 0.6.2 sends it: a ConfigMap and a Secret mounted, a
 * service account the remote namespace lacks; or, with `claim`, a volume of
 * an opted-in claim whose definition is sent along (and deleted with the
 * pod, as its retention policy asks).
 */
function createBody(namespace: string, uid: string, claim: boolean): Record<string, unknown> {
  const volumes = claim
    ? [{ name: 'data', persistentVolumeClaim: { claimName: 'results' } }]
    : [
        { name: 'settings', configMap: { name: 'settings' } },
        { name: 'creds', secret: { secretName: 'creds' } },
      ];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: claim ? 'with-claim' : 'with-data',
      namespace,
      uid,
      ...(claim ? { annotations: { 'interlink.io/remote-pvc': 'results' } } : {}),
    },
    spec: {
      nodeName: 'interlink-vk',
      restartPolicy: 'Never',
      ...(claim ? {} : { serviceAccountName: 'runner' }),
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['sleep', '3600'],
          // More CPU than any node has: the remote pod stays Pending and unbound (the shared
          // control plane has a scheduler), so deleting it is immediate, as the namespace
          // clean-up this test checks needs.
          resources: { requests: { cpu: '100' } },
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}` })),
        },
      ],
      volumes,
    },
  };
  const entry = {
    name: 'main',
    configMaps: claim ? null : [{ metadata: { name: 'settings', namespace }, data: { 'app.conf': 'debug=true' } }],
    secrets: claim ? null : [{ metadata: { name: 'creds', namespace }, type: 'Opaque', data: { token: 'czNjcjN0' } }],
    projectedvolumemaps: null,
    emptyDirs: null,
    ...(claim
      ? {
          persistentVolumeClaims: [
            {
              metadata: { name: 'results', namespace, annotations: { 'interlink.io/pvc-retention-policy': 'delete' } },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        }
      : {}),
  };
  return { pod, container: [entry], jobConfig: {} };
}

/**
 * Everything the plugin does on the remote cluster, once, as InterLink
 * drives it: readiness (the pod watch), ping (capacity), create with data
 * copies, status, logs, create with a claim, delete of both, and a sweep.
 * `inspect` runs after the creates, before the deletes.
 */
async function exercise(run: Run, inspect?: (outcome: Outcome) => Promise<void>, readyTimeoutMs = 20_000): Promise<Outcome> {
  const id = run.id ?? randomBytes(4).toString('hex');
  // Only the runs with every permission check the capacity the ping reports.
  const nodeName = await makeNode(id, run.checksCapacity === true);
  let plugin: InProcessPlugin | undefined;
  try {
    plugin = await startInProcessPlugin({
      K8S_KUBECONFIG_PATH: run.kubeconfigPath,
      K8S_FIELD_MANAGER: `rbac-e2e-${run.prefix}`,
      OFFLOADING_NAMESPACE_PREFIX: run.prefix,
      OFFLOADING_NODE_SELECTOR: JSON.stringify({ [NODE_LABEL]: id }),
      OFFLOADING_NODE_TOLERATIONS: JSON.stringify([{ key: NODE_LABEL, operator: 'Exists', effect: 'NoSchedule' }]),
    });
    const client = plugin.client;
    const failures: string[] = [];
    const step = async (what: string, answer: Promise<PluginAnswer>): Promise<PluginAnswer> => {
      const a = await answer;
      if (a.status !== 200) failures.push(`${what}: ${a.status} ${a.text}`);
      return a;
    };

    let ready = true;
    try {
      await eventually('plugin ready', async () => ((await client.send('GET', '/readyz')).status === 200 ? true : undefined), readyTimeoutMs);
    } catch {
      ready = false;
      failures.push(`readyz: ${(await client.send('GET', '/readyz')).text}`);
    }

    const local = { withData: `rbac-data-${id}`, withClaim: `rbac-claim-${id}` };
    const uids = { withData: randomUUID(), withClaim: randomUUID() };
    const withData = createBody(local.withData, uids.withData, false);
    const withClaim = createBody(local.withClaim, uids.withClaim, true);
    const outcome: Outcome = {
      failures,
      ready,
      ping: await step('ping', client.send('GET', '/status', [])),
      remoteNamespaces: { withData: `${run.prefix}-${local.withData}`, withClaim: `${run.prefix}-${local.withClaim}` },
      uids,
    };
    await step('create (ConfigMap, Secret, service account)', client.send('POST', '/create', withData));
    await step('status', client.send('GET', '/status', [withData.pod]));
    const logs = await client.send('GET', '/getLogs', {
      Namespace: local.withData,
      PodUID: uids.withData,
      PodName: 'with-data',
      ContainerName: 'main',
      Opts: { Tail: 10 },
    });
    // The remote pod is never scheduled here (no scheduler): the API server refuses its logs, which is fine; a permission error is not.
    if (logs.status !== 200 && /lack permission|credentials were rejected/.test(logs.text)) failures.push(`logs: ${logs.status} ${logs.text}`);
    await step('create (claim)', client.send('POST', '/create', withClaim));
    if (inspect !== undefined) await inspect(outcome);
    await step('delete (ConfigMap, Secret, service account)', client.send('POST', '/delete', withData.pod));
    await step('delete (claim)', client.send('POST', '/delete', withClaim.pod));
    try {
      await plugin.provider.sweep();
    } catch (error) {
      // What the periodic sweep reports (it converts the error as every remote call does).
      failures.push(`sweep: ${toPluginError(error).message}`);
    }
    failures.push(...plugin.remoteErrors.filter((m) => /lack permission|credentials were rejected/.test(m)));
    return outcome;
  } finally {
    await plugin?.close();
    await kube('DELETE', `/api/v1/nodes/${nodeName}`);
  }
}

/** Removes the namespaces a run made (a failed run may leave some). */
async function cleanUp(prefix: string): Promise<void> {
  const { items } = await kubeOk<{ items: { metadata: Meta }[] }>('GET', '/api/v1/namespaces');
  for (const ns of items) if (ns.metadata.name.startsWith(`${prefix}-`)) await kube('DELETE', `/api/v1/namespaces/${ns.metadata.name}`);
}

// --- setup: the chart, installed by helm --------------------------------------------

const RELEASE = 'plugin-rbac';
let namespace: string;
let dir: string;
let kubectl: Kubectl;
let helm: string;
/** The chart's ClusterRole as installed. */
let installed: ClusterRoleJson;

async function helmInstall(release: string, set: readonly string[] = []): Promise<void> {
  const args = ['install', release, join(CHARTS_DIR, 'remote-rbac'), '--namespace', namespace, '--kubeconfig', testKubeconfigPath(), '--wait'];
  for (const s of set) args.push('--set', s);
  await runToolOk(helm, args);
}

beforeAll(async () => {
  admin.loadFromFile(testKubeconfigPath());
  helm = helmBinary();
  kubectl = new Kubectl(kubectlBinary(), testKubeconfigPath());
  dir = await mkdtemp(join(tmpdir(), 'interlink-k8s-rbac-'));
  namespace = `interlink-remote-${randomBytes(3).toString('hex')}`;
  await kubectl.run(['create', 'namespace', namespace]);
  await helmInstall(RELEASE);
  installed = await kubeOk<ClusterRoleJson>('GET', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${RELEASE}-remote-rbac`);
  await waitUntilAllowed(namespace, `${RELEASE}-remote-rbac`, installed.rules);
}, 600_000);

afterAll(async () => {
  await runTool(helm, ['uninstall', RELEASE, `${RELEASE}-ll`, '--namespace', namespace, '--kubeconfig', testKubeconfigPath()]);
  await kube('DELETE', `/api/v1/namespaces/${namespace}`);
  await rm(dir, { recursive: true, force: true });
});

/** The shell commands the chart's NOTES give for making the plugin's kubeconfig, run as written; the kubeconfig they make. */
async function kubeconfigFromNotes(release: string): Promise<string> {
  const notes = await runToolOk(helm, ['get', 'notes', release, '--namespace', namespace, '--kubeconfig', testKubeconfigPath()]);
  const section = notes.slice(notes.indexOf("Make the plugin's kubeconfig"), notes.indexOf('Then, in the LOCAL cluster'));
  const script = section
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.slice(2))
    .join('\n');
  expect(script).toContain('kubectl config --kubeconfig=remote.kubeconfig set-credentials');
  const cwd = await mkdtemp(join(dir, 'notes-'));
  await runToolOk('bash', ['-euo', 'pipefail', '-c', script], '', {
    cwd,
    env: { ...process.env, KUBECONFIG: testKubeconfigPath(), PATH: `${dirname(kubectl.binary)}:${process.env.PATH ?? ''}` },
  });
  return join(cwd, 'remote.kubeconfig');
}

// --- the tests ---------------------------------------------------------------------

describe('remote-rbac: the plugin with exactly the chart’s permissions', () => {
  it('grants cluster-scoped rules on the core API group only, no wildcard, nothing to escalate with', () => {
    for (const rule of installed.rules) {
      expect(rule.apiGroups).toEqual(['']);
      expect([...rule.resources, ...rule.verbs]).not.toContain('*');
      expect(rule.verbs).not.toContain('bind');
      expect(rule.verbs).not.toContain('escalate');
      expect(rule.verbs).not.toContain('impersonate');
    }
  });

  it('with the kubeconfig made as NOTES.txt says (kubectl create token): ready, ping with capacity, create, status, logs, delete, sweep', async () => {
    const kubeconfigPath = await kubeconfigFromNotes(RELEASE);
    const prefix = 'rbac-ok';
    const outcome = await exercise({ kubeconfigPath, prefix, checksCapacity: true }, async (o) => {
      // What the creates made, read back as admin.
      const pods = await kubeOk<{ items: { metadata: Meta; spec: { serviceAccountName?: string } }[] }>(
        'GET',
        `/api/v1/namespaces/${o.remoteNamespaces.withData}/pods`,
      );
      expect(pods.items).toHaveLength(1);
      expect(pods.items[0]?.spec.serviceAccountName).toBe('default');
      for (const kind of ['configmaps', 'secrets']) {
        const list = await kubeOk<{ items: { metadata: Meta }[] }>(
          'GET',
          `/api/v1/namespaces/${o.remoteNamespaces.withData}/${kind}?labelSelector=${encodeURIComponent(`interlink.io/source.pod_uid=${o.uids.withData}`)}`,
        );
        expect(list.items).toHaveLength(1);
      }
      const claim = await kube('GET', `/api/v1/namespaces/${o.remoteNamespaces.withClaim}/persistentvolumeclaims/results`);
      expect(claim.status).toBe(200);
    });
    try {
      expect(outcome.failures).toEqual([]);
      expect(outcome.ready).toBe(true);
      expect(outcome.ping.json()).toEqual({ status: 'ok', resources: expect.objectContaining({ cpu: '8', pods: '110' }) });
      // The namespace the plugin made went with its last pod; the opted-in claim went with its pod.
      const ns = await kube('GET', `/api/v1/namespaces/${outcome.remoteNamespaces.withData}`);
      expect(ns.status === 404 || (ns.json as { metadata: Meta }).metadata.deletionTimestamp !== undefined).toBe(true);
      const claim = await kube('GET', `/api/v1/namespaces/${outcome.remoteNamespaces.withClaim}/persistentvolumeclaims/results`);
      expect(claim.status === 404 || (claim.json as { metadata: Meta }).metadata.deletionTimestamp !== undefined).toBe(true);
    } finally {
      await cleanUp(prefix);
    }
  }, 120_000);

  it('with the long-lived token Secret of longLivedToken.enabled: the same, all succeeding', async () => {
    const release = `${RELEASE}-ll`;
    await helmInstall(release, ['longLivedToken.enabled=true']);
    const sa = `${release}-remote-rbac`;
    // The token controller fills the Secret in moments.
    await eventually('token Secret filled', async () => {
      const secret = await kubeOk<{ data?: { token?: string } }>('GET', `/api/v1/namespaces/${namespace}/secrets/${sa}-token`);
      return secret.data?.token === undefined ? undefined : true;
    });
    await waitUntilAllowed(namespace, sa, installed.rules);
    const prefix = 'rbac-ll';
    try {
      const outcome = await exercise({ kubeconfigPath: await kubeconfigFromNotes(release), prefix });
      expect(outcome.failures).toEqual([]);
      expect(outcome.ready).toBe(true);
    } finally {
      await cleanUp(prefix);
    }
  }, 120_000);
});

describe('remote-rbac: without the chart’s permissions', () => {
  it('a ServiceAccount bound to nothing: create fails with 502 naming the missing permission; not ready', async () => {
    const sa = 'bound-to-nothing';
    await kubeOk('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: sa } });
    const kubeconfigPath = await tokenKubeconfig(dir, await tokenFor(namespace, sa));
    const plugin = await startInProcessPlugin({ K8S_KUBECONFIG_PATH: kubeconfigPath, OFFLOADING_NAMESPACE_PREFIX: 'rbac-none' });
    try {
      const body = createBody('rbac-none', randomUUID(), false);
      const answer = await plugin.client.send('POST', '/create', body);
      expect(answer.status).toBe(502);
      expect(answer.json()).toEqual({
        error: expect.objectContaining({
          code: 'remote_error',
          message: "the plugin's remote credentials lack permission to get namespaces",
        }) as unknown,
      });
      const readyz = await plugin.client.send('GET', '/readyz');
      expect(readyz.status).toBe(503);
      await eventually('the pod watch reports the denial', () =>
        Promise.resolve(
          plugin.remoteErrors.some((m) => m.includes("the plugin's remote credentials lack permission to list pods")) ? true : undefined,
        ),
      );
    } finally {
      await plugin.close();
    }
  }, 60_000);

  it('a Role in a namespace made in advance is not enough: the pod watch spans namespaces, new namespaces get nothing', async () => {
    const id = randomBytes(4).toString('hex');
    const prefix = `rbac-role-${id}`;
    const fixed = `${prefix}-rbac-data-${id}`;
    const name = `rbac-namespaced-${id}`;
    const namespaced = installed.rules.filter((r) => !r.resources.some((res) => res === 'namespaces' || res === 'nodes'));
    const clusterScoped = installed.rules.filter((r) => r.resources.some((res) => res === 'namespaces' || res === 'nodes'));
    await kubeOk('POST', '/api/v1/namespaces', { metadata: { name: fixed } });
    await kubeOk('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
    const subjects = [{ kind: 'ServiceAccount', name, namespace }];
    await kubeOk('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fixed}/roles`, { metadata: { name }, rules: namespaced });
    await kubeOk('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fixed}/rolebindings`, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
    await kubeOk('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name }, rules: clusterScoped });
    await kubeOk('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    });
    try {
      await waitUntilAllowed(namespace, name, clusterScoped);
      const kubeconfigPath = await tokenKubeconfig(dir, await tokenFor(namespace, name));
      const outcome = await exercise({ kubeconfigPath, prefix, id }, undefined, 3_000);
      expect(outcome.ready).toBe(false);
      expect(outcome.failures).toContain("the plugin's remote credentials lack permission to list pods");
      // Within the Role's namespace the calls pass; the claim's pod goes to a namespace the plugin
      // creates on demand, which no Role covers.
      expect(outcome.failures.filter((f) => f.includes(fixed))).toEqual([]);
      expect(outcome.failures.join('\n')).toContain(
        `the plugin's remote credentials lack permission to get pods in namespace "${outcome.remoteNamespaces.withClaim}"`,
      );
    } finally {
      await cleanUp(prefix);
      await kube('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`);
      await kube('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
    }
  }, 60_000);


  const cases = (): [string, string][] =>
    installed.rules.flatMap((rule) => rule.resources.flatMap((resource) => rule.verbs.map((verb): [string, string] => [verb, resource])));

  it('the chart grants exactly the permissions the README lists', () => {
    expect(cases().map(([verb, resource]) => `${verb} ${resource}`).sort()).toEqual(
      [
        ...['get', 'list', 'create', 'delete'].map((v) => `${v} namespaces`),
        'list nodes',
        ...['get', 'list', 'watch', 'create', 'patch', 'delete'].map((v) => `${v} pods`),
        'get pods/log',
        ...['list', 'create', 'patch', 'delete'].flatMap((v) => [`${v} configmaps`, `${v} secrets`]),
        ...['get', 'list', 'create', 'patch', 'delete'].map((v) => `${v} persistentvolumeclaims`),
        'get serviceaccounts',
      ].sort(),
    );
  });

  /** Runs the plugin with the chart's rules minus `verb` on `resource`; says what went unnoticed, if anything. */
  async function checkWithout(verb: string, resource: string): Promise<string | undefined> {
    const name = `rbac-without-${verb}-${resource.replace('/', '-')}`;
    const rules = installed.rules
      .flatMap((r) => (r.resources.includes(resource) ? splitRule(r, resource, verb) : [r]))
      .filter((r) => r.verbs.length > 0);
    await kubeOk('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name }, rules });
    await kubeOk('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
    await kubeOk('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    const prefix = `rbac-${randomBytes(3).toString('hex')}`;
    try {
      await waitUntilAllowed(namespace, name, rules);
      const kubeconfigPath = await tokenKubeconfig(dir, await tokenFor(namespace, name));
      // Without list or watch on pods the watch never syncs: do not wait long for readiness then.
      const readyTimeoutMs = resource === 'pods' && ['list', 'watch'].includes(verb) ? 3_000 : 20_000;
      const outcome = await exercise({ kubeconfigPath, prefix }, undefined, readyTimeoutMs);
      const expected = `the plugin's remote credentials lack permission to ${verb} ${resource}`;
      if (outcome.failures.some((f) => new RegExp(`${escapeRegExp(expected)}( |"|$)`).test(f))) return undefined;
      return `without ${verb} ${resource}: expected "${expected}", saw ${JSON.stringify(outcome.failures)}`;
    } finally {
      await cleanUp(prefix);
      await kube('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`);
      await kube('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
    }
  }

  it('each single verb is needed: without it, a call of the plugin fails naming it', async () => {
    const pending = cases();
    const unnoticed: string[] = [];
    // A few at a time: each waits mostly on the API server and its controllers.
    const worker = async (): Promise<void> => {
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
        const problem = await checkWithout(...next);
        if (problem !== undefined) unnoticed.push(problem);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(unnoticed).toEqual([]);
  }, 600_000);
});

/** `rule` without `verb` on `resource` (the rule's other resources keep every verb). */
function splitRule(rule: PolicyRule, resource: string, verb: string): PolicyRule[] {
  const others = rule.resources.filter((r) => r !== resource);
  return [
    ...(others.length > 0 ? [{ ...rule, resources: others }] : []),
    { ...rule, resources: [resource], verbs: rule.verbs.filter((v) => v !== verb) },
  ];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
