import { describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  InputError,
  NotFoundError,
  RemoteError,
  RemoteUnavailableError,
  UnprocessableError,
} from '@interlink-k8s/protocol';
import { INTERNAL_ERROR_MESSAGE, toHttpError } from './errors.js';

/** An error of a given name from elsewhere (another copy of the protocol package). */
const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('toHttpError', () => {
  it.each([
    { error: new InputError('bad', { field: 'pod.spec' }), status: 400, code: 'bad_request', field: 'pod.spec' },
    { error: new NotFoundError('gone'), status: 404, code: 'not_found' },
    { error: new ConflictError('taken'), status: 409, code: 'conflict' },
    { error: new UnprocessableError('refused'), status: 422, code: 'unprocessable' },
    { error: new RemoteUnavailableError('down'), status: 503, code: 'remote_unavailable' },
    { error: new RemoteError('odd', { status: 500 }), status: 502, code: 'remote_error' },
    { error: named('ConflictError', 'copy'), status: 409, code: 'conflict' },
  ])('maps $error.name to $status', ({ error, status, code, field }) => {
    expect(toHttpError(error)).toEqual({ status, code, message: error.message, ...(field ? { field } : {}) });
  });

  it('maps a too-large body to 413 naming the limit', () => {
    const error = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 });
    expect(toHttpError(error, 2 * 1024 * 1024)).toEqual({
      status: 413,
      code: 'payload_too_large',
      message: 'the request body is larger than the limit of 2 MiB (app.max_body_mib)',
      field: 'body',
    });
  });

  it('keeps the status of a client error meant to be shown', () => {
    const error = Object.assign(new Error('unsupported content encoding "br"'), { status: 415, expose: true });
    expect(toHttpError(error)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it.each([new Error('boom'), Object.assign(new Error('hidden'), { status: 500, expose: false }), 'a string', null])(
    'maps anything else to a generic 500 (%p)',
    (error) => {
      expect(toHttpError(error)).toEqual({ status: 500, code: 'internal_error', message: INTERNAL_ERROR_MESSAGE });
    },
  );
});
