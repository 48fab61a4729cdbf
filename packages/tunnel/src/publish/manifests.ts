import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { MANAGED_BY_LABEL, SOURCE_NAME_ANNOTATION, SOURCE_POD_UID_LABEL, type PodIdentity } from '@interlink-k8s/contract';

/**
 * Field manager and {@link MANAGED_BY_LABEL} value of everything the gateway
 * publishes; the gateway lists and deletes only Services carrying it.
 */
export const PUBLISHER_NAME = 'interlink-tunnel-gateway';

/** One published port: the pod's container port, and where the gateway listens for it. */
export interface PublishedPort {
  /** Service port name: the container port's name, or `tcp-<port>`. */
  readonly name: string;
  readonly containerPort: number;
  readonly allocatedPort: number;
}

/** A container port of the local pod, as the pod spec declares it. */
export interface DeclaredPort {
  readonly name?: string | undefined;
  readonly containerPort: number;
  readonly protocol?: string | undefined;
}

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The name of the Service published for `podName`: the pod's own name when
 * it is a valid Service name (a DNS-1035 label: at most 63 characters,
 * starting with a letter), so `web` in `shop` is reached as
 * `web.shop.svc`; otherwise `tunnel-` + the name's first valid characters +
 * `-` + 8 hex digits of its SHA-256, which stays unique and within 63.
 */
export function serviceNameFor(podName: string): string {
  if (DNS_1035_LABEL.test(podName)) return podName;
  const hash = createHash('sha256').update(podName).digest('hex').slice(0, 8);
  const stem = podName
    .toLowerCase()
    .replace(/[^-a-z0-9]/g, '-')
    .slice(0, 63 - 'tunnel-'.length - 9)
    .replace(/-+$/, '');
  return stem === '' ? `tunnel-${hash}` : `tunnel-${stem}-${hash}`;
}

/**
 * Names the published ports after the pod's declared TCP ports
 * (`containerPort` → `name`); a port the pod does not name, or whose name is
 * taken, becomes `tcp-<port>`. Sorted by container port, so the result does
 * not depend on the order the forwards arrived in.
 */
export function namePorts(forwards: readonly { containerPort: number; allocatedPort: number }[], declared: readonly DeclaredPort[]): PublishedPort[] {
  const names = new Map<number, string>();
  for (const port of declared) {
    const tcp = port.protocol === undefined || port.protocol === '' || port.protocol === 'TCP';
    if (tcp && port.name !== undefined && port.name !== '' && !names.has(port.containerPort)) names.set(port.containerPort, port.name);
  }
  const used = new Set<string>();
  return [...forwards]
    .sort((a, b) => a.containerPort - b.containerPort)
    .map(({ containerPort, allocatedPort }) => {
      let name = names.get(containerPort);
      if (name === undefined || used.has(name)) name = `tcp-${containerPort}`;
      used.add(name);
      return { name, containerPort, allocatedPort };
    });
}

function commonMetadata(pod: PodIdentity, name: string) {
  return {
    name,
    namespace: pod.namespace,
    labels: { [MANAGED_BY_LABEL]: PUBLISHER_NAME, [SOURCE_POD_UID_LABEL]: pod.uid },
    annotations: { [SOURCE_NAME_ANNOTATION]: pod.name },
  };
}

/**
 * The Service for `pod`: no selector (its endpoints are the gateway, in the
 * EndpointSlice of the same name), one port per container port, owned by
 * the local pod so that the cluster's garbage collector removes it with the
 * pod even when the gateway is down.
 */
export function serviceManifest(pod: PodIdentity, ports: readonly PublishedPort[]): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      ...commonMetadata(pod, serviceNameFor(pod.name)),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid }],
    },
    spec: {
      type: 'ClusterIP',
      ports: ports.map((port) => ({ name: port.name, port: port.containerPort, targetPort: port.allocatedPort, protocol: 'TCP' })),
    },
  };
}

/**
 * The EndpointSlice behind the Service: the gateway's address with the
 * allocated ports (named as the Service's ports, which is how kube-proxy
 * pairs them); no endpoint when `address` is undefined (the pod's forwards
 * are gone). Owned by the Service.
 */
export function endpointSliceManifest(
  pod: PodIdentity,
  service: { name: string; uid: string },
  ports: readonly PublishedPort[],
  address: string | undefined,
): Record<string, unknown> {
  const metadata = commonMetadata(pod, service.name);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...metadata,
      labels: { ...metadata.labels, 'kubernetes.io/service-name': service.name, 'endpointslice.kubernetes.io/managed-by': PUBLISHER_NAME },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.name, uid: service.uid }],
    },
    addressType: address !== undefined && isIPv6(address) ? 'IPv6' : 'IPv4',
    endpoints: address === undefined ? [] : [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false } }],
    ports: ports.map((port) => ({ name: port.name, port: port.allocatedPort, protocol: 'TCP' })),
  };
}
