import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Labels of one answered HTTP request. */
export interface RequestLabels {
  method: string;
  /** The route's path (`/status`), or `other` for paths the app does not serve. */
  route: string;
  status: number;
}

/** The app's Prometheus metrics, in a registry of their own (never the global one). */
export interface Metrics {
  /** Holds every metric below plus, unless disabled, the default process metrics. */
  readonly registry: Registry;
  /** Counts a request and records its duration. */
  observeRequest(labels: RequestLabels, seconds: number): void;
  /** Counts a failed call to the remote cluster's API. */
  countRemoteError(operation: string): void;
  /** Counts objects a sweep deleted on the remote cluster, by kind (`pods`, `configmaps`, `secrets`, `namespaces`). */
  countSwept(kind: string, count: number): void;
  /** Counts a failed read of the local cluster's API. */
  countLocalError(operation: string): void;
  /** Sets where the offloaded-pods gauge reads its value when scraped. */
  trackOffloadedPods(source: () => number): void;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Collect Node's default process metrics (CPU, memory, event loop, GC); default true. */
  defaultMetrics?: boolean;
}

const PREFIX = 'interlink_k8s_';

/**
 * Creates the metrics: request counts and latencies per method, route and
 * status; the number of offloaded pods; remote API errors per operation;
 * what the sweep deleted per kind; local API errors per operation.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time from request to the end of the answer (for streamed logs: to the end of the stream).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const remoteErrors = new Counter({
    name: `${PREFIX}remote_api_errors_total`,
    help: "Failed calls to the remote cluster's API, by operation.",
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const swept = new Counter({
    name: `${PREFIX}swept_objects_total`,
    help:
      'Objects the sweep deleted on the remote cluster, by kind: pods (their local pod gone), configmaps and secrets (their pod gone), namespaces (empty).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const localErrors = new Counter({
    name: `${PREFIX}local_api_errors_total`,
    help: "Failed reads of the local cluster's API (the sweep's check that a local pod still exists), by operation.",
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  let offloaded: (() => number) | undefined;
  new Gauge({
    name: `${PREFIX}offloaded_pods`,
    help: 'Pods currently offloaded to the remote cluster (from the watch cache).',
    registers: [registry],
    collect() {
      if (offloaded === undefined) return;
      try {
        this.set(offloaded());
      } catch {
        // A scrape must not fail because the provider cannot count right now.
      }
    },
  });

  return {
    registry,
    observeRequest({ method, route, status }, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    countRemoteError(operation) {
      remoteErrors.inc({ operation });
    },
    countSwept(kind, count) {
      swept.inc({ kind }, count);
    },
    countLocalError(operation) {
      localErrors.inc({ operation });
    },
    trackOffloadedPods(source) {
      offloaded = source;
    },
  };
}
