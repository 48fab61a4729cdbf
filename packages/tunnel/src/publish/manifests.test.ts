import { describe, expect, it } from '@jest/globals';
import { endpointSliceManifest, namePorts, serviceManifest, serviceNameFor } from './manifests.js';

const pod = { namespace: 'shop', name: 'web', uid: 'u-1' };

describe('serviceNameFor', () => {
  it('is the pod name when that is a valid Service name', () => {
    expect(serviceNameFor('web')).toBe('web');
    expect(serviceNameFor('web-5d8f7c9b6-x2x1z')).toBe('web-5d8f7c9b6-x2x1z');
  });

  it('otherwise is tunnel-<stem>-<hash>: valid, at most 63 characters, distinct per name', () => {
    const names = ['1st-pod', 'a.b.c', 'x'.repeat(200), 'x'.repeat(201), 'Caps', '...'];
    const services = names.map(serviceNameFor);
    for (const name of services) expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(new Set(services).size).toBe(names.length);
    expect(serviceNameFor('a.b.c')).toMatch(/^tunnel-a-b-c-[0-9a-f]{8}$/);
    expect(serviceNameFor('...')).toMatch(/^tunnel-[0-9a-f]{8}$/);
  });
});

describe('namePorts', () => {
  it('takes the pod\'s port names, falls back to tcp-<port>, and sorts by container port', () => {
    const ports = namePorts(
      [{ containerPort: 9090, allocatedPort: 20002 }, { containerPort: 8080, allocatedPort: 20001 }, { containerPort: 7070, allocatedPort: 20003 }],
      [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 9090, protocol: 'UDP' }, { containerPort: 7070, protocol: 'TCP' }],
    );
    expect(ports).toEqual([
      { name: 'tcp-7070', containerPort: 7070, allocatedPort: 20003 },
      { name: 'http', containerPort: 8080, allocatedPort: 20001 },
      { name: 'tcp-9090', containerPort: 9090, allocatedPort: 20002 },
    ]);
  });

  it('never gives two ports one name', () => {
    const ports = namePorts([{ containerPort: 1, allocatedPort: 2 }, { containerPort: 3, allocatedPort: 4 }], [{ name: 'web', containerPort: 1 }, { name: 'web', containerPort: 3 }]);
    expect(ports.map((p) => p.name)).toEqual(['web', 'tcp-3']);
  });
});

describe('manifests', () => {
  const ports = [{ name: 'http', containerPort: 8080, allocatedPort: 20001 }];

  it('a selector-less Service with the container ports, owned by the local pod', () => {
    expect(serviceManifest(pod, ports)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'interlink-tunnel-gateway', 'interlink.io/source.pod_uid': 'u-1' },
        annotations: { 'interlink.io/source.name': 'web' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u-1' }],
      },
      spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 20001, protocol: 'TCP' }] },
    });
  });

  it('an EndpointSlice with the gateway address and allocated ports, owned by the Service', () => {
    const slice = endpointSliceManifest(pod, { name: 'web', uid: 's-1' }, ports, '10.0.0.7');
    expect(slice).toMatchObject({
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.7'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: 20001, protocol: 'TCP' }],
      metadata: {
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'interlink-tunnel-gateway' },
        ownerReferences: [{ kind: 'Service', name: 'web', uid: 's-1' }],
      },
    });
    expect(endpointSliceManifest(pod, { name: 'web', uid: 's-1' }, ports, 'fd00::7')).toMatchObject({ addressType: 'IPv6' });
    expect(endpointSliceManifest(pod, { name: 'web', uid: 's-1' }, [], undefined)).toMatchObject({ endpoints: [], ports: [] });
  });
});
