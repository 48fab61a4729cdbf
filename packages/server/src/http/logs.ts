import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { RemoteUnavailableError, type LogStruct } from '@interlink-k8s/protocol';
import type { Response } from 'express';
import type { OffloadProvider } from '@interlink-k8s/remote-k8s';
import type { Logger } from '../logger.js';

/** Options of {@link streamLogs}. */
export interface StreamLogsOptions {
  /** Aborted when the server shuts down: a following stream then ends cleanly. */
  shutdown?: AbortSignal | undefined;
  /**
   * How long to hold the headers back while the stream has produced nothing
   * (an error in that time is still answered as a JSON error). After it, the
   * 200 is sent so a quiet `Follow` stream does not hit InterLink's 120 s
   * header timeout.
   */
  headerDeadlineMs: number;
  log: Logger;
}

class ClientGone extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGone';
  }
}

class ShuttingDown extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'ShuttingDown';
  }
}

/**
 * Answers a logs request by streaming the provider's text as it comes:
 * `200 text/plain`, each chunk written (and so flushed) as it arrives, with
 * back-pressure. The provider's signal is aborted when the client goes away
 * or the server shuts down. A failure before the first byte rejects (so the
 * error middleware answers JSON); after it, the answer is ended where it is.
 */
export async function streamLogs(
  provider: Pick<OffloadProvider, 'logs'>,
  request: LogStruct,
  res: Response,
  options: StreamLogsOptions,
): Promise<void> {
  const controller = new AbortController();
  const { signal } = controller;
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new ClientGone());
  };
  const onShutdown = () => {
    controller.abort(new ShuttingDown());
  };
  res.once('close', onClose);
  options.shutdown?.addEventListener('abort', onShutdown, { once: true });
  if (options.shutdown?.aborted === true) onShutdown();

  const begin = () => {
    if (res.headersSent) return;
    res.status(200);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.flushHeaders();
  };

  let stream: Readable | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let failed = false;
  let failure: unknown;
  try {
    stream = await provider.logs(request, signal);
    const source = stream;
    signal.addEventListener('abort', () => source.destroy(), { once: true });
    if (signal.aborted) source.destroy();
    deadline = setTimeout(begin, options.headerDeadlineMs);
    for await (const chunk of source as AsyncIterable<unknown>) {
      if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) {
        throw new TypeError('the log stream produced a chunk that is neither text nor bytes');
      }
      begin();
      if (!res.write(chunk)) await once(res, 'drain', { signal });
    }
  } catch (error) {
    failed = true;
    failure = error;
  } finally {
    clearTimeout(deadline);
    res.off('close', onClose);
    options.shutdown?.removeEventListener('abort', onShutdown);
    stream?.destroy();
  }

  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof ClientGone) return;
  if (reason instanceof ShuttingDown) {
    if (!res.headersSent) throw new RemoteUnavailableError('the plugin is shutting down; ask again', { cause: failure });
    res.end();
    return;
  }
  if (failed) {
    if (!res.headersSent) throw failure;
    options.log.warn({ err: failure }, 'the log stream failed after it started; ending the answer');
    res.end();
    return;
  }
  begin();
  res.end();
}
