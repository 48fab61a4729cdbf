/**
 * The real InterLink 0.6.2 in front of the plugin: its Virtual Kubelet (VK),
 * which registers a virtual node in the local cluster, and its API server,
 * which the VK calls and which calls the plugin. Both are built from the
 * source snapshot beside the repository (`e2e/scripts/build-interlink.sh`)
 * and run as processes of this machine.
 *
 * The VK runs with the identity InterLink's own Helm chart gives it: the
 * chart's ServiceAccount, ClusterRole and binding, rendered by helm from
 * `../shared/vendor/interlink-helm-chart` and applied for real, and a token
 * of that account. InterLink's API server needs no Kubernetes credentials.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { helmBinary, runToolOk } from '../charts/chart-tools.js';
import { rawKube, runScript, type ControlPlane, type RawKube } from '../harness/index.js';
import { get } from '../harness/http.js';
import { freePorts } from '../harness/ports.js';
import { describeExit, startProcess, type ManagedProcess } from '../harness/process.js';
import { chartIdentity } from './identity.js';

/** InterLink's own Helm chart, beside the repository (never copied into it). */
export const INTERLINK_CHART = fileURLToPath(new URL('../../../../shared/vendor/interlink-helm-chart/interlink', import.meta.url));

/** The virtual node's name: the InterLink chart's default `nodeName`. */
export const VIRTUAL_NODE_NAME = 'virtual-node';
/** The local namespace of InterLink's ServiceAccount (the chart's release namespace). */
export const INTERLINK_NAMESPACE = 'interlink';
/** The taint InterLink's VK puts on its node; offloaded pods tolerate it. */
export const VIRTUAL_NODE_TAINT = 'virtual-node.interlink/no-schedule';

/** Where InterLink's API server reaches the plugin. */
export type PluginEndpoint = { kind: 'tcp'; port: number } | { kind: 'unix'; path: string };

/** How to start InterLink. */
export interface InterLinkOptions {
  /** The local cluster (admin access is used to set up the VK's identity only). */
  local: ControlPlane;
  /** Directory for configs, data and logs (`virtual-kubelet.log`, `interlink.log`). */
  dir: string;
  plugin: PluginEndpoint;
  /** Default {@link VIRTUAL_NODE_NAME}. */
  nodeName?: string;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

/** InterLink's VK and API server, running. */
export interface InterLink {
  readonly nodeName: string;
  /** `http://127.0.0.1:<port>`: InterLink's API server, which the VK calls. */
  readonly apiUrl: string;
  readonly vkLogPath: string;
  readonly apiLogPath: string;
  /** Resolves once the virtual node is Ready (its first ping comes about 30 s after the VK starts). */
  waitNodeReady(timeoutMs?: number): Promise<void>;
  /** Stops and starts InterLink's API server (same port, same config). */
  restartApiServer(): Promise<void>;
  /** Stops and starts the VK (same node, same port, same identity). */
  restartVirtualKubelet(): Promise<void>;
  /** Stops both; safe to call twice. */
  stop(): Promise<void>;
}

/** The VK's and the API server's binaries (built once into the cache). */
export async function interlinkBinDir(log?: (line: string) => void): Promise<string> {
  return runScript('build-interlink.sh', [], log === undefined ? {} : { log });
}

/**
 * Gives the VK its identity in the local cluster (the InterLink chart's RBAC)
 * and starts InterLink's API server and VK. Resolves once both listen; the
 * virtual node is registered then but NotReady until the VK's first ping
 * (see {@link InterLink.waitNodeReady}).
 */
export async function startInterLink(opts: InterLinkOptions): Promise<InterLink> {
  const log = opts.log ?? ((): void => undefined);
  const nodeName = opts.nodeName ?? VIRTUAL_NODE_NAME;
  const binDir = await interlinkBinDir(log);
  await mkdir(join(opts.dir, 'data'), { recursive: true });
  const kc = new KubeConfig();
  kc.loadFromFile(opts.local.kubeconfigPath);
  const kube = rawKube(kc);

  const vkKubeconfig = await virtualKubeletIdentity(opts.local, kube, nodeName, opts.dir);
  const [apiPort = 0, kubeletPort = 0] = await freePorts(2);
  const apiUrl = `http://127.0.0.1:${String(apiPort)}`;

  // InterLink's API server: its config keys as in the chart's ConfigMap.
  const sidecar =
    opts.plugin.kind === 'tcp'
      ? { SidecarURL: 'http://127.0.0.1', SidecarPort: String(opts.plugin.port) }
      : { SidecarURL: `unix://${opts.plugin.path}` };
  const apiConfigPath = join(opts.dir, 'interlink.yaml');
  await writeFile(
    apiConfigPath,
    yamlOf({
      InterlinkAddress: 'http://127.0.0.1',
      InterlinkPort: String(apiPort),
      ...sidecar,
      VerboseLogging: true,
      ErrorsOnlyLogging: false,
      ExportPodData: false,
      DataRootFolder: `${join(opts.dir, 'data')}/`,
    }),
  );
  // The VK's config keys as in the chart's ConfigMap, with the values the
  // chart would set for a node of this size.
  const vkConfigPath = join(opts.dir, 'virtual-kubelet.yaml');
  await writeFile(
    vkConfigPath,
    yamlOf({
      InterlinkURL: 'http://127.0.0.1',
      InterlinkPort: String(apiPort),
      VerboseLogging: true,
      ErrorsOnlyLogging: false,
      ServiceAccount: nodeName,
      Namespace: INTERLINK_NAMESPACE,
      VKTokenFile: '',
      // The VK's kubelet endpoint (logs) gets a self-signed certificate
      // instead of waiting for a kubelet-serving CSR that nobody approves.
      DisableCSR: true,
      HTTP: { Insecure: true },
      KubeletHTTP: { Insecure: true },
      // What the node shows until the first ping; then the plugin's answer wins.
      Resources: { CPU: '8', Memory: '16Gi', Pods: '110' },
    }),
  );

  const apiLogPath = join(opts.dir, 'interlink.log');
  const vkLogPath = join(opts.dir, 'virtual-kubelet.log');
  const startApi = (): ManagedProcess =>
    startProcess({
      name: 'interlink',
      command: join(binDir, 'interlink'),
      args: [],
      cwd: opts.dir,
      logPath: apiLogPath,
      env: { INTERLINKCONFIGPATH: apiConfigPath },
    });
  const startVk = (): ManagedProcess =>
    startProcess({
      name: 'virtual-kubelet',
      command: join(binDir, 'virtual-kubelet'),
      args: [],
      cwd: opts.dir,
      logPath: vkLogPath,
      env: {
        NODENAME: nodeName,
        CONFIGPATH: vkConfigPath,
        KUBECONFIG: vkKubeconfig,
        // The local API server reaches the VK's kubelet endpoint (kubectl
        // logs) at the node's InternalIP, which is POD_IP.
        KUBELET_URL: '127.0.0.1',
        KUBELET_PORT: String(kubeletPort),
        POD_IP: '127.0.0.1',
      },
    });

  let api = startApi();
  let vk: ManagedProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([vk?.stop(), api.stop()]);
    })());
  try {
    await waitFor('InterLink API server listening', [api], async () => (await get(`${apiUrl}/pinglink`).catch(() => undefined)) !== undefined);
    log(`InterLink API server at ${apiUrl}, calling the plugin at ${opts.plugin.kind === 'tcp' ? `127.0.0.1:${String(opts.plugin.port)}` : `unix://${opts.plugin.path}`}`);
    const started = startVk();
    vk = started;
    await waitFor(`virtual node ${nodeName} registered`, [api, started], async () => (await kube.call('GET', `/api/v1/nodes/${nodeName}`)).status === 200);
    log(`virtual kubelet registered node ${nodeName} (kubelet endpoint 127.0.0.1:${String(kubeletPort)})`);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodeName,
    apiUrl,
    vkLogPath,
    apiLogPath,
    waitNodeReady: async (timeoutMs = 90_000) => {
      await waitFor(`virtual node ${nodeName} Ready`, [api, ...(vk === undefined ? [] : [vk])], async () => nodeReady(kube, nodeName), timeoutMs);
    },
    restartApiServer: async () => {
      await api.stop();
      api = startApi();
      await waitFor('InterLink API server listening', [api], async () => (await get(`${apiUrl}/pinglink`).catch(() => undefined)) !== undefined);
    },
    restartVirtualKubelet: async () => {
      await vk?.stop();
      const restarted = startVk();
      vk = restarted;
      // Restarted when its node lease is renewed again by the new process.
      await waitFor(`virtual kubelet running`, [restarted], async () => (await kube.call('GET', `/api/v1/nodes/${nodeName}`)).status === 200);
    },
    stop,
  };
}

/** Is the node's Ready condition True? */
export async function nodeReady(kube: RawKube, nodeName: string): Promise<boolean> {
  const answer = await kube.call('GET', `/api/v1/nodes/${nodeName}`);
  if (answer.status !== 200) return false;
  const node = answer.json as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/**
 * Applies the ServiceAccount and RBAC of InterLink's chart (as `helm
 * template` renders them for this node) and writes a kubeconfig with a token
 * of that account; returns its path.
 */
async function virtualKubeletIdentity(local: ControlPlane, kube: RawKube, nodeName: string, dir: string): Promise<string> {
  const rendered = await runToolOk(helmBinary(), [
    'template',
    'interlink',
    INTERLINK_CHART,
    '--namespace',
    INTERLINK_NAMESPACE,
    '--set',
    `nodeName=${nodeName}`,
    '--show-only',
    'templates/service-account.yaml',
  ]);
  const path = join(dir, 'virtual-kubelet.kubeconfig');
  await chartIdentity(local, kube, rendered, INTERLINK_NAMESPACE, path);
  return path;
}

/** JSON is YAML: InterLink reads its config with a YAML decoder. */
function yamlOf(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

// Polls until `probe` is true; fails at once when a watched process exits,
// with the tail of its log.
async function waitFor(what: string, watch: readonly ManagedProcess[], probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of watch) {
      const exit = p.exitInfo();
      if (exit !== undefined) throw new Error(`${what}: ${p.name} exited (${describeExit(exit)}); last lines of ${p.logPath}:\n${p.logTail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tails = watch.map((p) => `last lines of ${p.logPath}:\n${p.logTail(15)}`).join('\n');
      throw new Error(`${what}: not reached within ${String(timeoutMs / 1000)} s\n${tails}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
