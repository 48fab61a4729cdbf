import { readFileSync } from 'node:fs';
import { ConfigError, type FileReader } from '@interlink-k8s/contract';
import type { Logger } from './log.js';

/** Reads a file's text; `undefined` when it does not exist. */
export const readIfExists: FileReader = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENAMETOOLONG')) return undefined;
    throw error;
  }
};

/** Options of {@link shutdownOnSignals}. */
export interface ShutdownOptions {
  readonly logger: Logger;
  /** Stops the component; the process exits 0 when it resolves. */
  readonly shutdown: () => Promise<void>;
  /** After this long the process exits 1 whatever is left. */
  readonly timeoutMs: number;
}

/**
 * On SIGTERM or SIGINT: runs `shutdown` once and exits 0 (1 if it fails or
 * takes longer than `timeoutMs`); a second signal exits 1 at once.
 */
export function shutdownOnSignals({ logger, shutdown, timeoutMs }: ShutdownOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    shutdown().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Prints a start-up failure and gives the exit code: 2 for configuration, 1 otherwise. */
export function reportStartFailure(program: string, error: unknown): number {
  const isConfig = error instanceof ConfigError;
  if (isConfig) {
    process.stderr.write(`${program}: invalid configuration:\n  ${error.problems.join('\n  ')}\n`);
    return 2;
  }
  process.stderr.write(`${program}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}
