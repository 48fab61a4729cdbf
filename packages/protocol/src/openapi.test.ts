import { describe, expect, it } from '@jest/globals';
import { buildOpenApiDocument } from './openapi.js';

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument({ title: 't', version: '1.2.3' });

  it('is an OpenAPI 3.1 document with every plugin route and method', () => {
    expect(doc.openapi).toBe('3.1.0');
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths).sort()).toEqual(['/create', '/delete', '/getLogs', '/status']);
    expect(Object.keys(paths['/status'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/getLogs'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/delete'] ?? {}).sort()).toEqual(['delete', 'post']);
  });

  it('derives the request schemas from the zod schemas', () => {
    const schemas = (doc.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    expect(Object.keys(schemas.LogStruct?.properties ?? {})).toEqual(
      expect.arrayContaining(['Namespace', 'PodUID', 'PodName', 'ContainerName', 'Opts']),
    );
    expect(JSON.stringify(schemas.ContainerLogOpts)).toContain('Bytes');
  });

  it('only uses references that it defines', () => {
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1] ?? '');
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const ref of refs) expect(schemas).toHaveProperty(ref);
  });
});
