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
});
