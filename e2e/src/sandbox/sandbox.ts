/**
 * The sandbox: two real clusters on this machine with the real InterLink
 * and this plugin between them, as a user runs them.
 *
 * - remote: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
 *   and a real node (containerd + kubelet) whose pods really run;
 * - local: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 *   and InterLink's Virtual Kubelet registering the virtual node, with
 *   InterLink's API server calling the plugin;
 * - the plugin as its own process (config.ini), over TCP or a unix socket;
 * - optionally the tunnel gateway, publishing a Service in the local cluster
 *   for each offloaded pod with TCP ports, and a client in a network
 *   namespace of its own to call them (the sandbox runs neither kube-proxy
 *   nor DNS: the client connects where the Service's EndpointSlice says).
 *
 * Everything lives under one directory, and `stop()` leaves nothing outside
 * it: no process, mount, network namespace, bridge or iptables rule.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Helm, Kubectl, helmBinary, kubectlBinary } from '../charts/chart-tools.js';
import { rawKube, runScript, startControlPlane, startRemoteNode, type ControlPlane, type RawKube, type RemoteNode } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { startPluginProcess, type PluginProcess } from '../plugin/plugin-process.js';
import { ClientNamespace, TUNNEL_IMAGE, gatewayApiAccess, makeTunnelKeys, startGatewayProcess, type GatewayProcess } from '../tunnel/local-side.js';
import { KubeConfig } from '@kubernetes/client-node';
import { chartIdentity } from './identity.js';
import { startInterLink, type InterLink } from './interlink.js';

/** How to start a sandbox. */
export interface SandboxOptions {
  /** The sandbox's own directory (created; removed by `stop()` unless `KEEP_SANDBOX=1`). */
  dir: string;
  /** How InterLink's API server reaches the plugin; default TCP. */
  pluginTransport?: 'tcp' | 'unix';
  /** Run the tunnel gateway and give offloaded pods bastions; default false. */
  tunnel?: boolean;
  /** Extra `config.ini` settings of the plugin. */
  pluginSettings?: Record<string, Record<string, string>>;
  /** Receives progress lines, with timings. */
  log?: (line: string) => void;
}

/** The tunnel's local side. */
export interface SandboxTunnel {
  readonly gateway: GatewayProcess;
  /** A client in a network namespace of its own, for calling published Services. */
  readonly client: ClientNamespace;
}

/** A running sandbox. */
export interface Sandbox {
  readonly dir: string;
  readonly remote: ControlPlane;
  readonly node: RemoteNode;
  readonly local: ControlPlane;
  readonly interlink: InterLink;
  /** The plugin as it runs now (a new object after {@link Sandbox.restartPlugin}). */
  readonly plugin: PluginProcess;
  readonly tunnel: SandboxTunnel | undefined;
  /** Admin access to the local cluster. */
  readonly localKube: RawKube;
  /** Admin access to the remote cluster. */
  readonly remoteKube: RawKube;
  /** kubectl against the local cluster (what a user types). */
  readonly kubectl: Kubectl;
  /** kubectl against the remote cluster. */
  readonly remoteKubectl: Kubectl;
  /**
   * Stops the plugin (SIGTERM, or SIGKILL with `kill`), runs `whileDown`,
   * then starts it again on the same address and waits until it is ready.
   */
  restartPlugin(opts?: { kill?: boolean; whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops everything, the remote node first while its API server answers. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a sandbox. The VK starts first, as early as possible: its node is
 * NotReady until its first ping, 30 s after it starts (an InterLink
 * constant), so everything else starts in that shadow. Resolves once every
 * process runs; the virtual node may still be NotReady
 * (`sandbox.interlink.waitNodeReady()`).
 */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const log = opts.log ?? ((): void => undefined);
  const t0 = Date.now();
  const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const say = (line: string): void => {
    log(`[${at()}] ${line}`);
  };
  const dir = opts.dir;
  await mkdir(dir, { recursive: true });
  const pluginDir = join(dir, 'plugin');
  const interlinkDir = join(dir, 'interlink');
  await Promise.all([mkdir(pluginDir, { recursive: true }), mkdir(interlinkDir, { recursive: true })]);

  // What to stop, per lane: the processes between the clusters first, then
  // each cluster's side (InterLink then the local control plane; the node
  // then the remote control plane), the two sides at once.
  const stoppers: Record<'between' | 'local' | 'remote', (() => Promise<unknown>)[]> = { between: [], local: [], remote: [] };
  const stopAll = async (): Promise<void> => {
    // In reverse order of start within a lane; each one even if an earlier one failed.
    const errors: unknown[] = [];
    const lane = async (name: keyof typeof stoppers): Promise<void> => {
      for (const stop of stoppers[name].splice(0).reverse()) await stop().catch((error: unknown) => errors.push(error));
    };
    await lane('between');
    await Promise.all([lane('local'), lane('remote')]);
    if (process.env.KEEP_SANDBOX !== '1') await rm(dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'the sandbox did not stop cleanly');
  };

  try {
    const [pluginPort = 0] = await freePorts(1);
    const socketPath = join(pluginDir, 'plugin.sock');
    const transport = opts.pluginTransport ?? 'tcp';

    // The local control plane alone first (two starting at once on two
    // cores both start slower), so that the VK and its 30 s clock start
    // early; then InterLink (its API server calls the plugin only when
    // asked) beside the remote side.
    const local = await startControlPlane({ name: 'local', baseDir: dir, scheduler: true });
    stoppers.local.push(() => local.stop());
    say(`local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler at ${local.apiServerUrl}`);
    const localSide = (async () => {
      const interlink = await startInterLink({
        local,
        dir: interlinkDir,
        plugin: transport === 'tcp' ? { kind: 'tcp', port: pluginPort } : { kind: 'unix', path: socketPath },
        log: say,
      });
      stoppers.local.push(() => interlink.stop());
      return interlink;
    })();
    // The remote side: control plane and its real node.
    const remoteSide = (async () => {
      const remote = await startControlPlane({ name: 'remote', baseDir: dir, scheduler: true });
      stoppers.remote.push(() => remote.stop());
      say(`remote cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler at ${remote.apiServerUrl}`);
      const node = await startRemoteNode(remote, { baseDir: dir });
      // The node before its control plane: its pods go through the kubelet.
      stoppers.remote.push(() => node.stop());
      say(`remote node ${node.name}: containerd + kubelet, Ready at ${node.ip}`);
      return { remote, node };
    })();
    const [interlink, { remote, node }] = await Promise.all([localSide, remoteSide]);

    const localKube = rawKube(kubeConfigOf(local.kubeconfigPath));
    let tunnel: SandboxTunnel | undefined;
    let tunnelSettings: Record<string, string> | undefined;
    if (opts.tunnel === true) {
      // The bastion's image, in the local registry the remote node pulls from.
      await runScript('build-project-images.sh', ['tunnel']);
      const keys = await makeTunnelKeys(dir);
      const client = await ClientNamespace.create();
      stoppers.between.push(() => client.remove());
      const [sshPort = 0, gatewayHttpPort = 0] = await freePorts(2);
      const gateway = await startGatewayProcess({
        ...(await gatewayApiAccess({ controlPlane: local, kube: localKube, caPem: local.caPem }, 'interlink', dir)),
        TUNNEL_GATEWAY_HOST_KEY: keys.hostKeyPath,
        TUNNEL_GATEWAY_POD_KEY_SECRET: keys.podKeySecret,
        TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
        TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
        TUNNEL_GATEWAY_HTTP_PORT: String(gatewayHttpPort),
        TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
        TUNNEL_GATEWAY_ADVERTISE_ADDRESS: client.hostIp,
        TUNNEL_GATEWAY_SERVICE_GRACE_MS: '3000',
      });
      stoppers.between.push(() => gateway.stop());
      tunnel = { gateway, client };
      tunnelSettings = {
        enabled: 'true',
        gateway_host: node.ip,
        gateway_port: String(sshPort),
        gateway_host_public_key: keys.hostPublicKey.trim(),
        pod_key_secret: keys.podKeySecret,
        bastion_image: TUNNEL_IMAGE,
      };
      say(`tunnel gateway: SSH on ${node.ip}:${String(sshPort)} for the bastions, publishing Services in the local cluster`);
    }

    // The plugin reads the local cluster's pods with the identity its chart
    // gives it (get pods, nothing else), to remove remote pods whose local
    // pod was deleted while it was down.
    const localKubeconfig = join(pluginDir, 'local.kubeconfig');
    const rendered = await new Helm(helmBinary()).template('interlink-kubernetes-plugin', {
      release: 'plugin',
      namespace: 'interlink',
      setJson: { remoteKubeconfig: { value: 'rendered-for-its-local-rbac-only' } },
    });
    await chartIdentity(local, localKube, rendered, 'interlink', localKubeconfig);
    const settings: Record<string, Record<string, string>> = { ...opts.pluginSettings };
    settings.local = { kubeconfig_path: localKubeconfig, ...settings.local };
    if (tunnelSettings !== undefined) settings.tcp_tunnel = { ...tunnelSettings, ...settings.tcp_tunnel };
    const pluginOptions = {
      dir: pluginDir,
      kubeconfigPath: remote.kubeconfigPath,
      settings,
      ...(transport === 'tcp' ? { port: pluginPort } : { socketPath }),
    };
    let plugin = await startPluginProcess(pluginOptions);
    stoppers.between.push(() => plugin.stop());
    say(`plugin: its own process at ${plugin.url} (config ${join(pluginDir, 'config.ini')}, log ${plugin.logPath})`);

    const kubectlPath = kubectlBinary();
    return {
      dir,
      remote,
      node,
      local,
      interlink,
      get plugin() {
        return plugin;
      },
      tunnel,
      localKube,
      remoteKube: rawKube(kubeConfigOf(remote.kubeconfigPath)),
      kubectl: new Kubectl(kubectlPath, local.kubeconfigPath),
      remoteKubectl: new Kubectl(kubectlPath, remote.kubeconfigPath),
      restartPlugin: async ({ kill = false, whileDown } = {}) => {
        if (kill) process.kill(plugin.pid, 'SIGKILL');
        await plugin.stop();
        await whileDown?.();
        plugin = await startPluginProcess(pluginOptions);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch((stopError: unknown) => {
      log(`the sandbox did not stop cleanly after a failed start: ${stopError instanceof Error ? stopError.message : String(stopError)}`);
    });
    throw error;
  }
}

function kubeConfigOf(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
