import { describe, expect, it } from '@jest/globals';
import { createLogger, serializeError } from './log.js';

function capture(level: Parameters<typeof createLogger>[1]) {
  const lines: string[] = [];
  const logger = createLogger('interlink-tunnel-test', level, (line) => lines.push(line));
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, entries };
}

describe('the entry points\' logger', () => {
  it('writes one JSON object per line: level word, ISO time, service, fields, message', () => {
    const { logger, lines, entries } = capture('info');
    logger.info({ event: 'forwardAdded', allocatedPort: 20001, labels: { pod: 'web' } }, 'forward 8080 -> port 20001');
    logger.warn('plain message');

    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    const [first, second] = entries();
    expect(first).toEqual({ level: 'info', time: expect.any(String), service: 'interlink-tunnel-test', event: 'forwardAdded', allocatedPort: 20001, labels: { pod: 'web' }, msg: 'forward 8080 -> port 20001' });
    expect(new Date(String(first?.time)).toISOString()).toBe(first?.time);
    expect(second).toMatchObject({ level: 'warn', msg: 'plain message' });
  });

  it.each([
    ['error', ['fatal', 'error']],
    ['info', ['fatal', 'error', 'warn', 'info']],
    ['trace', ['fatal', 'error', 'warn', 'info', 'debug', 'trace']],
    ['silent', []],
  ] as const)('at %s writes only %j', (level, written) => {
    const { logger, entries } = capture(level);
    for (const name of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) logger[name]({ at: name }, name);

    expect(entries().map((entry) => entry.level)).toEqual(written);
  });

  it('writes an error under err with its type, message, stack, own properties and cause', () => {
    const { logger, entries } = capture('info');
    const cause = new RangeError('port out of range');
    const error = Object.assign(new Error('publishing failed', { cause }), { code: 'EACCES' });
    logger.error({ event: 'publishFailed', err: error }, 'publishing failed; retrying');

    expect(entries()[0]?.err).toEqual({ type: 'Error', message: 'publishing failed', stack: error.stack, code: 'EACCES', cause: { type: 'RangeError', message: 'port out of range', stack: cause.stack } });
  });

  it('keeps the line when a field cannot be written', () => {
    const { logger, entries } = capture('info');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.info({ cyclic }, 'still here');

    expect(entries()[0]).toMatchObject({ level: 'info', msg: 'still here', logError: expect.stringMatching(/circular/i) });
  });

  it('leaves what is not an error as it is, and stops at a cycle of causes', () => {
    expect(serializeError('text')).toBe('text');
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(serializeError(a)).toMatchObject({ message: 'a', cause: { message: 'b', cause: '[Circular]' } });
  });
});
