import { describe, expect, it } from '@jest/globals';
import { redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('replaces every secrets list whole', () => {
    const body = { container: [{ name: 'main', secrets: [{ metadata: { name: 's' }, data: { k: 'dmFsdWU=' } }] }] };
    expect(redactSecrets(body)).toEqual({ container: [{ name: 'main', secrets: '[redacted] 1 secret(s)' }] });
  });

  it('replaces the data of projected volume maps, keeping their names', () => {
    const body = { projectedvolumemaps: [{ metadata: { name: 'kube-api-access-x' }, data: { token: 'eyJ' } }] };
    expect(redactSecrets(body)).toEqual({
      projectedvolumemaps: [{ metadata: { name: 'kube-api-access-x' }, data: '[redacted]', binaryData: '[redacted]' }],
    });
  });

  it('replaces data and stringData of any Secret object', () => {
    const secret = { kind: 'Secret', metadata: { name: 's' }, data: { a: 'YQ==' }, stringData: { b: 'b' }, type: 'Opaque' };
    expect(redactSecrets([secret])).toEqual([
      { kind: 'Secret', metadata: { name: 's' }, data: '[redacted]', stringData: '[redacted]', type: 'Opaque' },
    ]);
  });

  it('replaces the literal value of every env variable (resolved secret references look like any other)', () => {
    const container = {
      name: 'main',
      env: [
        { name: 'API_KEY', value: 's3cr3t' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
    };
    expect(redactSecrets({ spec: { containers: [container] } })).toEqual({
      spec: {
        containers: [
          {
            name: 'main',
            env: [
              { name: 'API_KEY', value: '[redacted]' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
          },
        ],
      },
    });
  });

  it('leaves ConfigMaps and scalars alone', () => {
    const body = { configMaps: [{ metadata: { name: 'c' }, data: { a: '1' } }], n: 1, s: 'x', z: null };
    expect(redactSecrets(body)).toEqual(body);
  });
});
