import { describe, expect, it } from '@jest/globals';
import { buildApiDocument } from './api-doc.js';
import { ROUTES, ROUTE_PATHS, isRoutePath } from './routes.js';

describe('ROUTES', () => {
  it('documents in OpenAPI every route with exactly the methods the app serves', () => {
    const paths = buildApiDocument('1.0.0').paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(ROUTE_PATHS);
    for (const path of ROUTE_PATHS) expect({ path, methods: Object.keys(paths[path] ?? {}) }).toEqual({ path, methods: [...ROUTES[path].methods] });
  });

  it.each([
    ['/getlogs', true],
    ['/Status/', true],
    ['/docs', false],
    ['/', false],
  ])('isRoutePath(%s) is %s', (path, expected) => {
    expect(isRoutePath(path)).toBe(expected);
  });
});
