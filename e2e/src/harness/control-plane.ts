import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, createSigningKey, type CertificateFiles } from './certs.js';
import { get, type ClientTls } from './http.js';
import { renderKubeconfig } from './kubeconfig.js';
import { freePorts } from './ports.js';
import { describeExit, startProcess, type ManagedProcess } from './process.js';

/** How to start a control plane. */
export interface ControlPlaneOptions {
  /** Names the cluster in kubeconfigs and the temp dir (`interlink-k8s-<name>-*`). */
  name: string;
  /** Parent of the control plane's temp dir; defaults to `os.tmpdir()`. */
  baseDir?: string;
  /**
   * Directory holding `etcd`, `kube-apiserver`, `kube-controller-manager` (and
   * `kube-scheduler` with {@link ControlPlaneOptions.scheduler}); defaults to {@link resolveBinDir}.
   */
  binDir?: string;
  /** Start kube-controller-manager (garbage collection, namespace deletion, service accounts); default true. */
  controllerManager?: boolean;
  /**
   * Start kube-scheduler, so that pods get bound to the Ready nodes (see
   * `startRemoteNode`); default false: pods stay Pending and unbound.
   */
  scheduler?: boolean;
  /** Receives progress lines (which component is ready, how long it took). */
  log?: (line: string) => void;
}

/**
 * A running etcd + kube-apiserver (+ kube-controller-manager, + kube-scheduler)
 * on loopback. The API server reaches kubelets (logs, exec) at their
 * `InternalIP` with a client certificate in `system:masters`.
 */
export interface ControlPlane {
  /** The name given in {@link ControlPlaneOptions.name}. */
  name: string;
  /** Temp dir with certificates, kubeconfigs, etcd data and one log file per process. */
  dir: string;
  /** `https://127.0.0.1:<port>` */
  apiServerUrl: string;
  /** Absolute path of an admin kubeconfig (client cert in group `system:masters`). */
  kubeconfigPath: string;
  /** Content of the admin kubeconfig. */
  kubeconfigYaml: string;
  /** PEM of the cluster's CA (what a pod finds in its service-account volume). */
  caPem: string;
  /**
   * Issues a client certificate for `user` (with `groups` as organizations)
   * and returns the path of a kubeconfig using it. Such a user starts with no
   * RBAC permissions, which is what authorization tests need.
   */
  kubeconfigFor(user: string, groups?: string[]): Promise<string>;
  /** Stops and starts kube-apiserver only (same port, same etcd) and waits for `/readyz`. */
  restartApiServer(): Promise<void>;
  /**
   * Stops every process (SIGTERM, then SIGKILL after a grace period) and
   * removes {@link ControlPlane.dir} unless `KEEP_SANDBOX=1`. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** Service CIDR of every control plane; the API server's serving cert carries its first IP. */
const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
const KUBERNETES_SERVICE_IP = '10.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;

type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

/** What `startControlPlane` runs unless told otherwise (build-binaries.sh's default set). */
export const CONTROL_PLANE_COMPONENTS: readonly string[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];

/**
 * Builds the given binaries when missing (`e2e/scripts/build-binaries.sh`, a
 * no-op once built; default: etcd, kube-apiserver, kube-controller-manager)
 * and returns the directory holding them. Other components: kube-scheduler,
 * kubelet, kubectl, kube-proxy.
 */
export function resolveBinDir(components: readonly string[] = CONTROL_PLANE_COMPONENTS): string {
  const script = fileURLToPath(new URL('../../scripts/build-binaries.sh', import.meta.url));
  // stderr is inherited so that a first, minutes-long build shows progress.
  const out = execFileSync('bash', [script, ...components], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = out.trim().split('\n').at(-1)?.trim();
  if (last === undefined || last === '') throw new Error(`${script} printed no bin directory`);
  return last;
}

/**
 * Starts a fresh control plane in its own temp dir: certificates from a new CA,
 * etcd, kube-apiserver, (unless disabled) kube-controller-manager and (when
 * asked) kube-scheduler, on free loopback ports. Resolves once the API server
 * is ready, with the controller manager once the `default` ServiceAccount
 * exists in `default`, and with the scheduler once its `/readyz` answers.
 * On failure everything started so far is stopped and the error carries the
 * tail of the failing component's log.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? ((): void => undefined);
  const t0 = Date.now();
  const since = (): string => `${Date.now() - t0} ms`;
  const withScheduler = opts.scheduler ?? false;
  const binDir = opts.binDir ?? resolveBinDir(withScheduler ? [...CONTROL_PLANE_COMPONENTS, 'kube-scheduler'] : CONTROL_PLANE_COMPONENTS);
  const bin = (name: string): string => join(binDir, name);
  const dir = await mkdtemp(join(opts.baseDir ?? tmpdir(), `interlink-k8s-${opts.name}-`));
  const processes = new Map<Component, ManagedProcess>();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const stopOne = async (key: Component): Promise<void> => {
        await processes.get(key)?.stop();
      };
      // etcd last: the API server's shutdown still talks to it.
      await Promise.all([stopOne('kube-scheduler'), stopOne('kube-controller-manager'), stopOne('kube-apiserver')]);
      await stopOne('etcd');
      if (process.env.KEEP_SANDBOX === '1') {
        log(`${opts.name}: kept ${dir} (KEEP_SANDBOX=1)`);
      } else {
        await rm(dir, { recursive: true, force: true });
      }
    })());

  try {
    const [etcdClientPort, etcdPeerPort, apiServerPort, kcmPort, schedulerPort] = await freePorts(5);
    if (
      etcdClientPort === undefined ||
      etcdPeerPort === undefined ||
      apiServerPort === undefined ||
      kcmPort === undefined ||
      schedulerPort === undefined
    ) {
      throw new Error('could not reserve five ports');
    }
    const apiServerUrl = `https://127.0.0.1:${apiServerPort}`;
    const pkiDir = join(dir, 'pki');
    await mkdir(pkiDir);

    const ca = await createCertificateAuthority(pkiDir, `interlink-k8s-${opts.name}-ca`);
    const [serving, admin, kcmClient, schedulerClient, kubeletClient, saKey] = await Promise.all([
      ca.issue({
        stem: 'apiserver',
        commonName: 'kube-apiserver',
        use: {
          kind: 'server',
          dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
          ipAddresses: ['127.0.0.1', KUBERNETES_SERVICE_IP],
        },
      }),
      ca.issue({ stem: 'admin', commonName: 'admin', organizations: ['system:masters'], use: { kind: 'client' } }),
      ca.issue({
        stem: 'kube-controller-manager',
        commonName: 'system:kube-controller-manager',
        use: { kind: 'client' },
      }),
      ca.issue({ stem: 'kube-scheduler', commonName: 'system:kube-scheduler', use: { kind: 'client' } }),
      // What the API server shows kubelets (logs, exec, port-forward): they
      // trust this CA (the one in their kubeconfig) and authorize the user
      // through the API server's SubjectAccessReview: nodes/proxy and friends,
      // which system:masters has (kubeadm binds system:kubelet-api-admin instead).
      ca.issue({
        stem: 'apiserver-kubelet-client',
        commonName: 'kube-apiserver-kubelet-client',
        organizations: ['system:masters'],
        use: { kind: 'client' },
      }),
      createSigningKey(pkiDir, 'service-account'),
    ]);
    log(`${opts.name}: certificates in ${since()}`);

    const kubeconfigFile = async (fileName: string, userName: string, cert: CertificateFiles): Promise<{ path: string; yaml: string }> => {
      const yaml = renderKubeconfig({
        clusterName: opts.name,
        server: apiServerUrl,
        caPem: ca.ca.certPem,
        userName,
        credentials: { kind: 'cert', certPem: cert.certPem, keyPem: cert.keyPem },
      });
      const path = join(dir, fileName);
      await writeFile(path, yaml, { mode: 0o600 });
      return { path, yaml };
    };
    const adminKubeconfig = await kubeconfigFile('admin.kubeconfig', 'admin', admin);
    const kcmKubeconfig = await kubeconfigFile('kube-controller-manager.kubeconfig', 'system:kube-controller-manager', kcmClient);
    const schedulerKubeconfig = withScheduler
      ? await kubeconfigFile('kube-scheduler.kubeconfig', 'system:kube-scheduler', schedulerClient)
      : undefined;
    const adminTls: ClientTls = { caPem: ca.ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem };

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess({
      name: 'etcd',
      command: bin('etcd'),
      cwd: dir,
      logPath: join(dir, 'etcd.log'),
      args: [
        `--name=${opts.name}`,
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${etcdPeerUrl}`,
        // Without these two etcd advertises its default peer URL
        // (localhost:2380), which another control plane may own.
        `--initial-advertise-peer-urls=${etcdPeerUrl}`,
        `--initial-cluster=${opts.name}=${etcdPeerUrl}`,
        // Tests do not need durability; fsync dominates etcd's latency on slow disks.
        '--unsafe-no-fsync=true',
      ],
    });
    processes.set('etcd', etcd);
    await waitUntil('etcd healthy', [etcd], async () => {
      const res = await get(`${etcdUrl}/health`);
      return { ok: res.status === 200 && res.body.includes('"true"'), detail: `HTTP ${res.status} ${res.body}` };
    });
    log(`${opts.name}: etcd healthy in ${since()}`);

    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiServerPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${serving.certPath}`,
      `--tls-private-key-file=${serving.keyPath}`,
      `--client-ca-file=${ca.ca.certPath}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saKey.publicKeyPath}`,
      `--service-account-signing-key-file=${saKey.privateKeyPath}`,
      // One client (the tests) per server: fairness queues only add latency.
      '--enable-priority-and-fairness=false',
      // Without it, SIGTERM leaves the controller manager's watches open and
      // the server waits for them (restartApiServer then took 5 s + SIGKILL).
      '--shutdown-watch-termination-grace-period=2s',
      // Logs and exec go through the kubelet. By default the API server dials
      // a node's Hostname first, which resolves through the host's DNS (a
      // real node here is `remote-node`): InternalIP only keeps it local.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-client-certificate=${kubeletClient.certPath}`,
      `--kubelet-client-key=${kubeletClient.keyPath}`,
    ];
    const startApiServer = async (): Promise<ManagedProcess> => {
      const apiServer = startProcess({
        name: 'kube-apiserver',
        command: bin('kube-apiserver'),
        cwd: dir,
        logPath: join(dir, 'kube-apiserver.log'),
        args: apiServerArgs,
      });
      processes.set('kube-apiserver', apiServer);
      await waitUntil('kube-apiserver /readyz', [etcd, apiServer], async () => {
        const res = await get(`${apiServerUrl}/readyz`, adminTls);
        return { ok: res.status === 200, detail: `HTTP ${res.status} ${res.body}` };
      });
      return apiServer;
    };
    const firstApiServer = await startApiServer();
    log(`${opts.name}: kube-apiserver ready at ${apiServerUrl} in ${since()}`);

    if (opts.controllerManager ?? true) {
      const kcm = startProcess({
        name: 'kube-controller-manager',
        command: bin('kube-controller-manager'),
        cwd: dir,
        logPath: join(dir, 'kube-controller-manager.log'),
        args: [
          `--kubeconfig=${kcmKubeconfig.path}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--cert-dir=${join(dir, 'kcm-certs')}`,
          '--leader-elect=false',
          '--controllers=*',
          `--service-account-private-key-file=${saKey.privateKeyPath}`,
          `--root-ca-file=${ca.ca.certPath}`,
          // Each controller runs as its own ServiceAccount with its bootstrap
          // RBAC role, as in kubeadm clusters. With `false` all controllers act
          // as system:kube-controller-manager, whose role is mostly read-only:
          // its log filled with `forbidden` (kube-root-ca.crt ConfigMaps,
          // ClusterRole aggregation) and it may not delete, which garbage
          // collection and namespace deletion need.
          '--use-service-account-credentials=true',
          // Creating those ServiceAccounts and tokens at the default 20 qps
          // delayed controller start-up by about 5 s.
          '--kube-api-qps=200',
          '--kube-api-burst=400',
        ],
      });
      processes.set('kube-controller-manager', kcm);
      // The serviceaccount controller creating `default` proves that the
      // controllers started and can write through the API server.
      await waitUntil('kube-controller-manager: ServiceAccount default/default', [etcd, firstApiServer, kcm], async () => {
        const res = await get(`${apiServerUrl}/api/v1/namespaces/default/serviceaccounts/default`, adminTls);
        return { ok: res.status === 200, detail: `HTTP ${res.status}` };
      });
      log(`${opts.name}: kube-controller-manager running in ${since()}`);
    }

    if (schedulerKubeconfig !== undefined) {
      const scheduler = startProcess({
        name: 'kube-scheduler',
        command: bin('kube-scheduler'),
        cwd: dir,
        logPath: join(dir, 'kube-scheduler.log'),
        args: [
          `--kubeconfig=${schedulerKubeconfig.path}`,
          // Delegated authn/authz of its own HTTPS endpoint (metrics); /healthz
          // and /readyz are always allowed.
          `--authentication-kubeconfig=${schedulerKubeconfig.path}`,
          `--authorization-kubeconfig=${schedulerKubeconfig.path}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${schedulerPort}`,
          `--cert-dir=${join(dir, 'scheduler-certs')}`,
          '--leader-elect=false',
        ],
      });
      processes.set('kube-scheduler', scheduler);
      // /readyz includes `sched-handler-sync`: its informers are synced and it schedules.
      await waitUntil('kube-scheduler /readyz', [etcd, firstApiServer, scheduler], async () => {
        const res = await get(`https://127.0.0.1:${schedulerPort}/readyz`, 'insecure');
        return { ok: res.status === 200, detail: `HTTP ${res.status} ${res.body}` };
      });
      log(`${opts.name}: kube-scheduler ready in ${since()}`);
    }

    const userKubeconfigs = new Map<string, Promise<string>>();
    let userCount = 0;
    const kubeconfigFor = (user: string, groups: string[] = []): Promise<string> => {
      const key = JSON.stringify([user, [...groups].sort()]);
      let pending = userKubeconfigs.get(key);
      if (pending === undefined) {
        const stem = `user-${++userCount}-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
        pending = ca
          .issue({ stem, commonName: user, organizations: groups, use: { kind: 'client' } })
          .then(async (cert) => (await kubeconfigFile(`${stem}.kubeconfig`, user, cert)).path);
        userKubeconfigs.set(key, pending);
      }
      return pending;
    };

    return {
      name: opts.name,
      dir,
      apiServerUrl,
      kubeconfigPath: adminKubeconfig.path,
      kubeconfigYaml: adminKubeconfig.yaml,
      caPem: ca.ca.certPem,
      kubeconfigFor,
      restartApiServer: async () => {
        if (stopping !== undefined) throw new Error(`control plane "${opts.name}" is stopped`);
        const t = Date.now();
        await processes.get('kube-apiserver')?.stop();
        await startApiServer();
        log(`${opts.name}: kube-apiserver restarted in ${Date.now() - t} ms`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    const kept = process.env.KEEP_SANDBOX === '1' ? `kept ${dir}` : `set KEEP_SANDBOX=1 to keep ${dir} for inspection`;
    throw new Error(`control plane "${opts.name}" failed to start (${kept}): ${message}`, { cause: error });
  }
}

interface Probe {
  ok: boolean;
  /** Shown in the timeout error: what the last attempt saw. */
  detail: string;
}

// Polls `probe` until it succeeds. Fails at once when a watched process has
// exited (no point waiting 60 s for a crashed binary) and on timeout; both
// errors carry the tail of the relevant log, which is usually the whole story.
async function waitUntil(what: string, watch: readonly ManagedProcess[], probe: () => Promise<Probe>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    for (const p of watch) {
      const exit = p.exitInfo();
      if (exit !== undefined) {
        throw new Error(`${what}: ${p.name} exited (${describeExit(exit)}); last lines of ${p.logPath}:\n${p.logTail()}`);
      }
    }
    const last = await probe().then(
      (result) => (result.ok ? undefined : result.detail),
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    if (last === undefined) return;
    if (Date.now() > deadline) {
      const culprit = watch.at(-1);
      const tail = culprit === undefined ? '' : `; last lines of ${culprit.logPath}:\n${culprit.logTail()}`;
      throw new Error(`${what}: not reached within ${READY_TIMEOUT_MS / 1000} s (last attempt: ${last.slice(0, 500)})${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
