/** An HTTP method the app answers on a route. */
export type RouteMethod = 'get' | 'post' | 'delete';

/** One path the app serves (the docs page aside: its path is configurable). */
export interface RouteSpec {
  readonly methods: readonly RouteMethod[];
  /**
   * Successful answers are logged at debug level, not info: InterLink polls
   * `/status` every few seconds, and probes and scrapers call the others.
   */
  readonly quiet: boolean;
  /** `interlink`: InterLink's plugin API, documented by `@interlink-k8s/protocol`; `operations`: the plugin's own. */
  readonly api: 'interlink' | 'operations';
}

/**
 * Every route of the app, in the order it registers them: the router, the
 * metrics' `route` label, the OpenAPI paths (and so the docs page) and the
 * paths the docs page may not take are all read from here.
 */
export const ROUTES = {
  '/create': { methods: ['post'], quiet: false, api: 'interlink' },
  '/delete': { methods: ['post', 'delete'], quiet: false, api: 'interlink' },
  '/status': { methods: ['get', 'post'], quiet: true, api: 'interlink' },
  '/getLogs': { methods: ['get', 'post'], quiet: false, api: 'interlink' },
  '/healthz': { methods: ['get'], quiet: true, api: 'operations' },
  '/readyz': { methods: ['get'], quiet: true, api: 'operations' },
  '/metrics': { methods: ['get'], quiet: true, api: 'operations' },
  '/openapi.json': { methods: ['get'], quiet: false, api: 'operations' },
} as const satisfies Record<string, RouteSpec>;

/** A path of {@link ROUTES}. */
export type RoutePath = keyof typeof ROUTES;
/** A path of the plugin's own operations (not InterLink's API). */
export type OperationsPath = { [P in RoutePath]: (typeof ROUTES)[P]['api'] extends 'operations' ? P : never }[RoutePath];

/** The paths of {@link ROUTES}, in order. */
export const ROUTE_PATHS = Object.keys(ROUTES) as RoutePath[];

/** Whether `path` is one of the plugin's own operations rather than InterLink's API. */
export function isOperationsPath(path: RoutePath): path is OperationsPath {
  return ROUTES[path].api === 'operations';
}

/** Whether `path` is one of the app's routes as express matches paths: case-insensitively, a trailing slash ignored. */
export function isRoutePath(path: string): boolean {
  const normalised = path.toLowerCase().replace(/\/+$/, '');
  return ROUTE_PATHS.some((route) => route.toLowerCase() === normalised);
}
