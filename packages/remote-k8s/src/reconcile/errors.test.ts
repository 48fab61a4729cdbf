import { describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  InputError,
  NotFoundError,
  RemoteError,
  RemoteUnavailableError,
  UnprocessableError,
} from '@interlink-k8s/protocol';
import { KubeApiError, toPluginError } from './errors.js';

const createPods = { verb: 'create', resource: 'pods', namespace: 'offloading-team', name: 'job-abc' };

function answer(status: number | undefined, message: string, reason?: string): KubeApiError {
  return new KubeApiError(message, { status, reason, request: createPods });
}

describe('toPluginError', () => {
  it.each([
    [404, 'pods "job-abc" not found', NotFoundError, 'remote cluster: pods "job-abc" not found'],
    [409, 'pods "job-abc" already exists', ConflictError, 'remote cluster: pods "job-abc" already exists'],
    [
      422,
      'Pod "job-abc" is invalid: spec.containers[0].image: Required value',
      UnprocessableError,
      'remote cluster refused to create pods in namespace "offloading-team": Pod "job-abc" is invalid: spec.containers[0].image: Required value',
    ],
    [400, 'bad request body', UnprocessableError, 'remote cluster refused to create pods in namespace "offloading-team": bad request body'],
    [
      403,
      'pods is forbidden: User "plugin" cannot create resource "pods" in API group "" in the namespace "offloading-team"',
      RemoteError,
      `the plugin's remote credentials lack permission to create pods in namespace "offloading-team"`,
    ],
    [
      403,
      'pods "job-abc" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=9, limited: cpu=10',
      RemoteError,
      'remote cluster refused to create pods in namespace "offloading-team": pods "job-abc" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=9, limited: cpu=10',
    ],
    [401, 'Unauthorized', RemoteError, `the plugin's remote credentials were rejected (401) for create pods in namespace "offloading-team"`],
    [429, 'too many requests', RemoteUnavailableError, 'remote cluster is throttling requests (429): too many requests'],
    [
      500,
      'failed to create typed patch object (ns/p; /v1, Kind=Pod): .spec.newField: field not declared in schema',
      UnprocessableError,
      'remote cluster refused to create pods in namespace "offloading-team": failed to create typed patch object (ns/p; /v1, Kind=Pod): .spec.newField: field not declared in schema',
    ],
    [500, 'etcdserver: request timed out', RemoteUnavailableError, 'remote cluster unavailable (500): etcdserver: request timed out'],
    [503, 'service unavailable', RemoteUnavailableError, 'remote cluster unavailable (503): service unavailable'],
    [
      undefined,
      'connect ECONNREFUSED 127.0.0.1:6443',
      RemoteUnavailableError,
      'remote cluster unreachable (create pods in namespace "offloading-team"): connect ECONNREFUSED 127.0.0.1:6443',
    ],
    [
      undefined,
      'no answer within 30 s',
      RemoteUnavailableError,
      'remote cluster unreachable (create pods in namespace "offloading-team"): no answer within 30 s',
    ],
    [418, 'teapot', RemoteError, `remote cluster answered 418 to create pods in namespace "offloading-team": teapot`],
  ])('maps status %p (%s) to %p', (status, remoteMessage, errorClass, message) => {
    const original = answer(status, remoteMessage);
    const converted = toPluginError(original);
    expect(converted).toBeInstanceOf(errorClass);
    expect(converted.message).toBe(message);
    expect(converted.cause).toBe(original);
  });

  it('keeps the remote status on RemoteError', () => {
    const converted = toPluginError(answer(403, 'x cannot get resource "pods"'));
    expect(converted).toBeInstanceOf(RemoteError);
    expect(converted).toMatchObject({ status: 403 });
  });

  it('names the verb RBAC denied, not the request’s: an apply that creates needs create', () => {
    const apply = { verb: 'patch', resource: 'secrets', namespace: 'offloading-team', name: 'token-x' };
    const denied = new KubeApiError('secrets "token-x" is forbidden: User "plugin" cannot create resource "secrets" in API group ""', {
      status: 403,
      request: apply,
    });
    expect(toPluginError(denied).message).toBe(
      `the plugin's remote credentials lack permission to create secrets in namespace "offloading-team"`,
    );
  });

  it('passes the project’s own errors through unchanged', () => {
    const own = new InputError('bad field', { field: 'pod.spec' });
    expect(toPluginError(own)).toBe(own);
  });

  it('wraps anything else as a RemoteError naming what was being done', () => {
    const original = new TypeError('boom');
    const converted = toPluginError(original, { verb: 'list', resource: 'nodes' });
    expect(converted).toBeInstanceOf(RemoteError);
    expect(converted.message).toBe('remote cluster: list nodes failed: boom');
    expect(converted.cause).toBe(original);
  });
});
