import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/keys.js';

/** The app's logger type (pino's). */
export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
}

/**
 * The app's logger: pino, one JSON object per line, ISO timestamps and the
 * level as a word. `destination` defaults to stdout (tests pass a stream).
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const settings = {
    level: options.level,
    base: { service: 'interlink-k8s' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(settings) : pino(settings, destination);
}
