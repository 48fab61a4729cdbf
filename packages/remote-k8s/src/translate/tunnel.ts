import { Buffer } from 'node:buffer';
import type { V1Container, V1EnvVar, V1PodSpec, V1ResourceRequirements, V1Secret } from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import type { Pod } from '@interlink-k8s/protocol';
import { bastionLabels, derivePodKey, type PodIdentity } from '@interlink-k8s/contract';
import { tryParseQuantity } from '../shared/quantity.js';
import { TCP_TUNNEL_ANNOTATION, TCP_TUNNEL_IGNORED_PORTS_ANNOTATION, podObjectLabels, sourceAnnotations } from './labels.js';
import { remoteTunnelSecretName } from './names.js';
import type { Manifest, TunnelOptions } from './types.js';

/** Name of the bastion sidecar; a pod of its own with a container of this name cannot be tunnelled. */
export const BASTION_CONTAINER_NAME = 'interlink-tunnel-bastion';
/** Arguments that make the tunnel image (entrypoint `node`) run the bastion instead of the gateway. */
export const BASTION_ARGS: readonly string[] = ['dist/bin/bastion.js'];
/** Key of the tunnel Secret holding the bastion's private key (OpenSSH or PEM text). */
export const TUNNEL_SECRET_PRIVATE_KEY = 'bastion-private-key';
/** Key of the tunnel Secret holding the gateway host public key(s) the bastion pins. */
export const TUNNEL_SECRET_HOST_KEY = 'gateway-host-key';
/** User and group of the tunnel image. */
const BASTION_UID = 65532;

/** Requests for the sidecar (and its limits when the pod's QoS class is Guaranteed, which it must keep). */
const BASTION_CPU = '10m';
const BASTION_MEMORY_REQUEST = '64Mi';
// Room for the bastion's peak while it carries parallel streams, before
// garbage collection catches up; the measured idle and peak figures are in
// docs/benchmarks.md (Tunnel, highest RSS of the bastion).
const BASTION_MEMORY_LIMIT = '256Mi';

/** A container port the tunnel cannot carry. */
export interface IgnoredPort {
  port: number;
  /** `UDP` or `SCTP`. */
  protocol: string;
  /** The first container that declares it. */
  container: string;
}

/** The ports a pod serves: TCP ones (sorted, each once) and the others, which the tunnel does not carry. */
export interface ServedPorts {
  tcp: number[];
  ignored: IgnoredPort[];
}

/** What the tunnel adds to one pod's plan. */
export interface TunnelPlan {
  /** The native sidecar to append to `initContainers`; undefined when the pod gets no bastion. */
  sidecar: Manifest<V1Container> | undefined;
  /** The per-pod Secret with the bastion's keys; present exactly when `sidecar` is. */
  secret: Manifest<V1Secret> | undefined;
  /** Annotations for the remote pod ({@link TCP_TUNNEL_IGNORED_PORTS_ANNOTATION}). */
  annotations: Record<string, string>;
  /** One sentence per thing the user should know (ignored ports, an unrecognised opt-out value). */
  warnings: string[];
}

/** Where the tunnel's objects go. */
export interface TunnelTarget {
  /** Remote namespace. */
  namespace: string;
  options: TunnelOptions;
}

/**
 * The ports the pod's long-running containers declare: app containers and
 * native sidecars (init containers with `restartPolicy: Always`); plain init
 * containers finish before anything could connect. A port without protocol
 * is TCP, as in Kubernetes. Deterministic: TCP ports ascending, ignored ports
 * by port then protocol, each once.
 */
export function servedPorts(spec: Manifest<V1PodSpec>): ServedPorts {
  const serving = [...spec.containers, ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const tcp = new Set<number>();
  const ignored = new Map<string, IgnoredPort>();
  for (const container of serving) {
    for (const { containerPort: port, protocol } of container.ports ?? []) {
      const proto = protocol === undefined || protocol === '' ? 'TCP' : protocol.toUpperCase();
      if (proto === 'TCP') tcp.add(port);
      else if (!ignored.has(`${port}/${proto}`)) ignored.set(`${port}/${proto}`, { port, protocol: proto, container: container.name });
    }
  }
  return {
    tcp: [...tcp].sort((a, b) => a - b),
    ignored: [...ignored.values()].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0)),
  };
}

/** Whether the pod opted out of the tunnel: annotation {@link TCP_TUNNEL_ANNOTATION} is `false` (any case). */
export function tunnelOptedOut(annotations: Readonly<Record<string, string>> | null | undefined): boolean {
  return annotations?.[TCP_TUNNEL_ANNOTATION]?.trim().toLowerCase() === 'false';
}

/**
 * The TCP tunnel's additions for one pod (nothing when the pod opted out with
 * `interlink.io/tcp-tunnel: "false"`):
 * - for TCP ports, a bastion as a native sidecar, so it lives and dies with
 *   the pod and reaches its ports on 127.0.0.1, and a per-pod Secret with
 *   its private key (derived for this pod, or the shared one) and the
 *   gateway host key(s) it pins;
 * - for UDP and SCTP ports, which the tunnel cannot carry, a warning each and
 *   the remote pod annotation {@link TCP_TUNNEL_IGNORED_PORTS_ANNOTATION}.
 *
 * Pure and deterministic: a derived key depends only on the secret and the
 * local pod's namespace, name and UID.
 *
 * @param spec the translated remote pod spec (ports are read from it)
 * @throws InputError when the pod already has a container named {@link BASTION_CONTAINER_NAME}.
 */
export function planTunnel(local: Pod, spec: Manifest<V1PodSpec>, target: TunnelTarget): TunnelPlan {
  const { namespace: localNamespace, name, uid } = local.metadata;
  const podRef = `${localNamespace}/${name}`;
  const annotations = local.metadata.annotations;
  if (tunnelOptedOut(annotations)) return { sidecar: undefined, secret: undefined, annotations: {}, warnings: [] };

  const warnings: string[] = [];
  const optValue = annotations?.[TCP_TUNNEL_ANNOTATION];
  if (optValue !== undefined && optValue.trim().toLowerCase() !== 'true') {
    warnings.push(
      `pod ${podRef}: annotation ${TCP_TUNNEL_ANNOTATION} is ${JSON.stringify(optValue)}; only "false" keeps a pod out of the TCP tunnel, so it is tunnelled`,
    );
  }

  const ports = servedPorts(spec);
  for (const p of ports.ignored) {
    warnings.push(`pod ${podRef}: port ${p.port}/${p.protocol} of container "${p.container}" is not tunnelled (the TCP tunnel carries TCP only)`);
  }
  const podAnnotations: Record<string, string> =
    ports.ignored.length === 0
      ? {}
      : { [TCP_TUNNEL_IGNORED_PORTS_ANNOTATION]: ports.ignored.map((p) => `${p.port}/${p.protocol}`).join(',') };
  if (ports.tcp.length === 0) return { sidecar: undefined, secret: undefined, annotations: podAnnotations, warnings };

  assertNameFree(spec);
  const identity: PodIdentity = { namespace: localNamespace, name, uid };
  const secretName = remoteTunnelSecretName(name, uid);
  const options = target.options;
  const privateKey =
    options.bastionKey.kind === 'per-pod' ? derivePodKey(options.bastionKey.secret, identity).privateKey : options.bastionKey.privateKey;

  const secret: Manifest<V1Secret> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName,
      namespace: target.namespace,
      labels: podObjectLabels(uid),
      annotations: sourceAnnotations({ name, namespace: localNamespace, uid }),
    },
    type: 'Opaque',
    data: {
      [TUNNEL_SECRET_PRIVATE_KEY]: Buffer.from(privateKey, 'utf8').toString('base64'),
      [TUNNEL_SECRET_HOST_KEY]: Buffer.from(options.gatewayHostKeys, 'utf8').toString('base64'),
    },
  };

  const fromSecret = (envName: string, key: string): Manifest<V1EnvVar> => ({
    name: envName,
    valueFrom: { secretKeyRef: { name: secretName, key } },
  });
  const env: Manifest<V1EnvVar>[] = [
    { name: 'TUNNEL_BASTION_GATEWAY_HOST', value: options.gatewayHost },
    { name: 'TUNNEL_BASTION_GATEWAY_PORT', value: String(options.gatewayPort) },
    fromSecret('TUNNEL_BASTION_GATEWAY_HOST_KEY', TUNNEL_SECRET_HOST_KEY),
    fromSecret('TUNNEL_BASTION_PRIVATE_KEY', TUNNEL_SECRET_PRIVATE_KEY),
    // `key=value,...` as the bastion reads it (it encodes them into its SSH user name).
    {
      name: 'TUNNEL_BASTION_LABELS',
      value: Object.entries(bastionLabels(identity, ports.ignored.map((p) => `${p.port}/${p.protocol}`)))
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
    },
    { name: 'TUNNEL_BASTION_FORWARDS', value: ports.tcp.join(',') },
    { name: 'TUNNEL_BASTION_TARGET_HOST', value: '127.0.0.1' },
  ];
  if (options.ciphers !== undefined && options.ciphers !== '') env.push({ name: 'TUNNEL_CIPHERS', value: options.ciphers });

  const sidecar: Manifest<V1Container> = {
    name: BASTION_CONTAINER_NAME,
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    args: [...BASTION_ARGS],
    restartPolicy: 'Always',
    env,
    resources: bastionResources(isGuaranteed(spec)),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: BASTION_UID,
      runAsGroup: BASTION_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  return { sidecar, secret, annotations: podAnnotations, warnings };
}

/** Refuses a pod that already has a container named like the sidecar (the remote API would reject the duplicate). */
function assertNameFree(spec: Manifest<V1PodSpec>): void {
  const lists = [
    ['containers', spec.containers],
    ['initContainers', spec.initContainers ?? []],
  ] as const;
  for (const [field, containers] of lists) {
    const index = containers.findIndex((c) => c.name === BASTION_CONTAINER_NAME);
    if (index >= 0) {
      throw new InputError(
        `the container name "${BASTION_CONTAINER_NAME}" is reserved for the TCP tunnel's bastion sidecar: rename the container, or keep the pod out of the tunnel with the annotation ${TCP_TUNNEL_ANNOTATION}: "false"`,
        { field: `pod.spec.${field}[${index}].name` },
      );
    }
  }
}

/**
 * Whether the pod's QoS class is Guaranteed by its containers: every
 * container and init container has CPU and memory limits, and requests (when
 * given) equal to them. Such a pod keeps its class only if the sidecar's
 * requests equal its limits too.
 */
export function isGuaranteed(spec: Manifest<V1PodSpec>): boolean {
  const all = [...spec.containers, ...(spec.initContainers ?? [])];
  return all.every((c) =>
    ['cpu', 'memory'].every((resource) => {
      const limit = tryParseQuantity(c.resources?.limits?.[resource]);
      const requestText = c.resources?.requests?.[resource];
      return limit !== undefined && (requestText === undefined || tryParseQuantity(requestText) === limit);
    }),
  );
}

function bastionResources(guaranteed: boolean): Manifest<V1ResourceRequirements> {
  if (guaranteed) {
    const both = { cpu: BASTION_CPU, memory: BASTION_MEMORY_LIMIT };
    return { requests: { ...both }, limits: { ...both } };
  }
  return { requests: { cpu: BASTION_CPU, memory: BASTION_MEMORY_REQUEST }, limits: { memory: BASTION_MEMORY_LIMIT } };
}
