import { describe, expect, it } from '@jest/globals';
import type { LogStruct } from '@interlink-k8s/protocol';
import { toLogQuery } from './local-pod.js';
import { serviceAccountToCheck } from './pod.js';

const request = (opts: Partial<LogStruct['Opts']>): LogStruct =>
  ({
    Namespace: 'shop',
    PodUID: 'u',
    PodName: 'web',
    ContainerName: 'app',
    Opts: { Tail: 0, LimitBytes: 0, Timestamps: false, Follow: false, Previous: false, SinceSeconds: 0, Bytes: 0, ...opts },
  }) as LogStruct;

describe('toLogQuery', () => {
  it.each([
    [{}, { container: 'app' }],
    [{ Follow: true, Tail: 10 }, { container: 'app', follow: true, tailLines: 10 }],
    [{ SinceSeconds: 5, SinceTime: '2026-01-01T00:00:00Z' }, { container: 'app', sinceSeconds: 5 }],
    [{ SinceTime: '2026-01-01T00:00:00Z' }, { container: 'app', sinceTime: '2026-01-01T00:00:00Z' }],
  ])('%j → %j', (opts, expected) => {
    expect(toLogQuery(request(opts))).toEqual(expected);
  });
});

describe('serviceAccountToCheck', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['default', undefined],
    ['builder', 'builder'],
  ])('serviceAccountName %j → %j', (account, expected) => {
    expect(serviceAccountToCheck({ spec: { serviceAccountName: account } })).toBe(expected);
  });
});
