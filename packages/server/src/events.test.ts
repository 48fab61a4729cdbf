import { describe, expect, it } from '@jest/globals';
import { logSink } from './__tests__/http-client.js';
import { providerEvents } from './events.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

describe('providerEvents', () => {
  it('logs a pod warning at warn level with the pod’s namespace, name and UID', () => {
    const sink = logSink();
    const events = providerEvents(createLogger({ level: 'info' }, sink), createMetrics({ defaultMetrics: false }));
    events.podWarning?.({ namespace: 'team-a', name: 'web', uid: 'uid-1' }, 'pod team-a/web: port 53/UDP of container "dns" is not tunnelled');
    expect(sink.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        component: 'provider',
        namespace: 'team-a',
        pod: 'web',
        uid: 'uid-1',
        msg: 'pod team-a/web: port 53/UDP of container "dns" is not tunnelled',
      }),
    ]);
  });

  it('counts what a sweep deleted by kind, and counts and logs a failed local read', async () => {
    const sink = logSink();
    const metrics = createMetrics({ defaultMetrics: false });
    const events = providerEvents(createLogger({ level: 'info' }, sink), metrics);
    events.swept?.({ pods: 2, configmaps: 1 });
    events.swept?.({ pods: 1 });
    events.localError?.('sweep: get local pod', new Error('local cluster unreachable'));
    const text = await metrics.registry.metrics();
    expect(text).toContain('interlink_k8s_swept_objects_total{kind="pods"} 3');
    expect(text).toContain('interlink_k8s_swept_objects_total{kind="configmaps"} 1');
    expect(text).toContain('interlink_k8s_local_api_errors_total{operation="sweep: get local pod"} 1');
    expect(sink.lines).toEqual([
      expect.objectContaining({ level: 'warn', component: 'provider', operation: 'sweep: get local pod', msg: 'local API call failed: sweep: get local pod' }),
    ]);
  });
});
