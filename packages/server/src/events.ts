import type { ProviderEvents } from '@interlink-k8s/remote-k8s';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * The provider's events turned into log lines and metrics: a failed remote
 * call is counted by operation and logged as a warning; a notice is logged;
 * a pod warning (e.g. a port the TCP tunnel does not carry) is logged as a
 * warning with the pod's namespace, name and UID; what a sweep deleted is
 * counted by kind; a failed read of the local cluster is counted and logged
 * as a warning.
 */
export function providerEvents(logger: Logger, metrics: Metrics): ProviderEvents {
  const log = logger.child({ component: 'provider' });
  return {
    remoteError(operation, error) {
      metrics.countRemoteError(operation);
      log.warn({ operation, err: error }, `remote API call failed: ${operation}`);
    },
    notice(message, details) {
      log.info(details ?? {}, message);
    },
    podWarning(pod, message) {
      log.warn({ namespace: pod.namespace, pod: pod.name, uid: pod.uid }, message);
    },
    swept(removed) {
      for (const [kind, count] of Object.entries(removed)) metrics.countSwept(kind, count);
    },
    localError(operation, error) {
      metrics.countLocalError(operation);
      log.warn({ operation, err: error }, `local API call failed: ${operation}`);
    },
  };
}
