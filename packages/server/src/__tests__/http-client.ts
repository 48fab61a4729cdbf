import { exchange, openExchange, type PluginAnswer, type ExchangeOptions, type PluginTarget } from '@interlink-k8s/protocol';
import type { IncomingMessage } from 'node:http';

/** Where to send: a TCP port on loopback or a unix socket. */
export type Target = PluginTarget;

/** An answer, read to the end. */
export type Answer = PluginAnswer;

/** One HTTP exchange (GET bodies included, as InterLink sends them); no connection reuse. */
export function call(target: Target, method: string, path: string, options: ExchangeOptions = {}): Promise<Answer> {
  return exchange(target, method, path, options);
}

/** Opens an exchange and hands back the response as it arrives (for streamed answers). */
export function open(target: Target, method: string, path: string, body: unknown): Promise<{ res: IncomingMessage; abort: () => void }> {
  return openExchange(target, method, path, { body });
}

/** A sink for pino that keeps every line, parsed. */
export function logSink(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}
