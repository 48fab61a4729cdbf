import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  CreateRequestSchema,
  DeleteRequestSchema,
  LogStructSchema,
  PingResponseSchema,
  PodStatusSchema,
  StatusRequestSchema,
} from './schemas.js';

const pod = {
  metadata: { name: 'web', namespace: 'team-a', uid: '8d3b1c2e-0000-4000-8000-000000000001' },
  spec: { containers: [{ name: 'app', image: 'nginx' }] },
};

const firstIssuePath = (result: { success: boolean; error?: z.ZodError }): string =>
  result.error?.issues[0]?.path.join('.') ?? '';

describe('CreateRequestSchema', () => {
  it('accepts the 0.5.0+ object form', () => {
    const parsed = CreateRequestSchema.parse({ pod, container: [], jobConfig: {} });
    expect(parsed.pod.metadata.uid).toBe(pod.metadata.uid);
  });

  it('accepts the pre-0.5.0 array form with one element and yields the object', () => {
    const parsed = CreateRequestSchema.parse([{ pod, container: null }]);
    expect(parsed.pod.metadata.name).toBe('web');
    expect(parsed.container).toEqual([]);
  });

  it('turns Go null slices into empty arrays', () => {
    const parsed = CreateRequestSchema.parse({
      pod,
      container: [{ name: 'app', configMaps: null, projectedvolumemaps: null, secrets: null, emptyDirs: null }],
    });
    expect(parsed.container[0]).toMatchObject({ configMaps: [], projectedvolumemaps: [], secrets: [], emptyDirs: [] });
  });

  it('keeps unknown fields of newer InterLink versions', () => {
    const parsed = CreateRequestSchema.parse({
      pod: { ...pod, spec: { ...pod.spec, futureField: { x: 1 } } },
      container: [{ name: 'app', persistentVolumeClaims: [{ metadata: { name: 'c' } }] }],
    });
    expect(parsed.pod.spec).toHaveProperty('futureField', { x: 1 });
    expect(parsed.container[0]).toHaveProperty('persistentVolumeClaims');
  });

  it('keeps Secret data and ConfigMap binaryData byte for byte', () => {
    const data = { 'tls.key': 'AAECAwQF/w==' };
    const parsed = CreateRequestSchema.parse({
      pod,
      container: [
        {
          name: 'app',
          secrets: [{ metadata: { name: 's' }, data }],
          configMaps: [{ metadata: { name: 'c' }, binaryData: { blob: '3q2+7w==' } }],
        },
      ],
    });
    expect(parsed.container[0]?.secrets[0]?.data).toEqual(data);
    expect(parsed.container[0]?.configMaps[0]?.binaryData).toEqual({ blob: '3q2+7w==' });
  });

  it.each([
    ['a pod without uid', { pod: { ...pod, metadata: { name: 'web', namespace: 'a' } } }, 'pod.metadata.uid'],
    ['a pod without containers', { pod: { ...pod, spec: { containers: [] } } }, 'pod.spec.containers'],
    ['a container entry without name', { pod, container: [{ configMaps: [] }] }, 'container[0].name'],
  ])('rejects %s naming the field', (_title, body, field) => {
    const result = CreateRequestSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(z.prettifyError(result.error ?? new z.ZodError([]))).toContain(field);
  });

  it('rejects an array of two pods', () => {
    expect(CreateRequestSchema.safeParse([{ pod }, { pod }]).success).toBe(false);
  });
});

describe('DeleteRequestSchema', () => {
  const deleted = (value: unknown) => ({
    ...pod,
    metadata: { ...pod.metadata, deletionTimestamp: '2026-07-01T10:00:00Z', deletionGracePeriodSeconds: value },
  });

  it.each([0, 1, 30, null, undefined])('accepts metadata.deletionGracePeriodSeconds %p', (value) => {
    const parsed = DeleteRequestSchema.parse(deleted(value));
    expect(parsed.metadata.deletionGracePeriodSeconds).toBe(value);
    expect(parsed.metadata.deletionTimestamp).toBe('2026-07-01T10:00:00Z');
  });

  it.each([-1, 1.5, '1'])('refuses metadata.deletionGracePeriodSeconds %p, naming the field', (value) => {
    const result = DeleteRequestSchema.safeParse(deleted(value));
    expect(result.success).toBe(false);
    expect(firstIssuePath(result)).toBe('metadata.deletionGracePeriodSeconds');
  });
});

describe('StatusRequestSchema', () => {
  it.each([[null], [[]], [undefined]])('reads %p as the empty ping list', (body) => {
    expect(StatusRequestSchema.parse(body)).toEqual([]);
  });

  it('names the failing pod index', () => {
    const result = StatusRequestSchema.safeParse([pod, { metadata: { name: 'x' } }]);
    expect(firstIssuePath(result)).toMatch(/^1\.metadata/);
  });
});

describe('LogStructSchema', () => {
  const base = { Namespace: 'team-a', PodUID: 'u', PodName: 'web', ContainerName: 'app' };

  it('reads Go zero SinceTime as unset', () => {
    const parsed = LogStructSchema.parse({ ...base, Opts: { SinceTime: '0001-01-01T00:00:00Z', Bytes: 10 } });
    expect(parsed.Opts.SinceTime).toBeUndefined();
    expect(parsed.Opts.Bytes).toBe(10);
  });

  it('keeps a real SinceTime', () => {
    const parsed = LogStructSchema.parse({ ...base, Opts: { SinceTime: '2026-11-24T10:00:00Z' } });
    expect(parsed.Opts.SinceTime).toBe('2026-11-24T10:00:00Z');
  });

  it('fills defaults when Opts is absent', () => {
    expect(LogStructSchema.parse(base).Opts).toMatchObject({ Tail: 0, Bytes: 0, Follow: false, Previous: false });
  });

  it('rejects a negative Tail naming Opts.Tail', () => {
    const result = LogStructSchema.safeParse({ ...base, Opts: { Tail: -1 } });
    expect(firstIssuePath(result)).toBe('Opts.Tail');
  });
});

describe('PodStatusSchema', () => {
  it('rejects an empty string timestamp, which breaks the Go decoder', () => {
    const status = {
      name: 'web',
      UID: 'u',
      namespace: 'a',
      JID: 'r',
      initContainers: [],
      containers: [
        { name: 'app', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: { startedAt: '' } } },
      ],
    };
    expect(PodStatusSchema.safeParse(status).success).toBe(false);
  });
});

describe('PingResponseSchema', () => {
  it('accepts the 0.6.2 shape with accelerators and taints', () => {
    const ping = {
      status: 'ok',
      resources: { cpu: '8', memory: '32Gi', pods: '110', accelerators: [{ resourceType: 'nvidia.com/gpu', available: '2' }] },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
    };
    expect(PingResponseSchema.parse(ping)).toEqual(ping);
  });
});
