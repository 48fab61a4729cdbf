import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { PortRangeExhaustedError } from '../errors.js';
import { PortAllocator } from './ports.js';

// Below the kernel's ephemeral range (32768-60999 by default): the client end of
// another test's connection can never be holding one of these ports.
const RANGE = { min: 25300, max: 25303 };
const servers: Server[] = [];

function server(): Server {
  const created = createServer();
  servers.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.listening)
            s.close(() => {
              resolve();
            });
          else resolve();
        }),
    ),
  );
});

describe('PortAllocator', () => {
  it('starts at a port derived from the identity, the same every time', async () => {
    const ports = new PortAllocator(RANGE);
    const preferred = ports.preferredPort('web\0localhost\x008080');

    expect(new PortAllocator(RANGE).preferredPort('web\0localhost\x008080')).toBe(preferred);
    await expect(ports.listen(server(), '127.0.0.1', 'web\0localhost\x008080')).resolves.toBe(preferred);
  });

  it('never hands out a port twice, and skips ports another process holds', async () => {
    const ports = new PortAllocator(RANGE);
    const foreign = server();
    await new Promise<void>((resolve) => foreign.listen(ports.preferredPort('x'), '127.0.0.1', resolve));

    // allSettled: a failed listen must not leave the others listening past this test.
    const settled = await Promise.allSettled([1, 2, 3].map(() => ports.listen(server(), '127.0.0.1', 'x')));
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const got = settled.map((result) => (result.status === 'fulfilled' ? result.value : 0));
    expect(new Set(got).size).toBe(3);
    expect(got).not.toContain(ports.preferredPort('x'));
    await expect(ports.listen(server(), '127.0.0.1', 'x')).rejects.toThrow(PortRangeExhaustedError);
  });

  it('hands a released port out again', async () => {
    const ports = new PortAllocator({ min: 25300, max: 25300 });
    const first = server();
    await ports.listen(first, '127.0.0.1', 'a');
    await new Promise((resolve) => first.close(resolve));
    ports.release(25300);

    await expect(ports.listen(server(), '127.0.0.1', 'b')).resolves.toBe(25300);
    expect(ports.size).toBe(1);
  });

  it.each([
    [{ min: 0, max: 10 }],
    [{ min: 10, max: 9 }],
    [{ min: 1, max: 70000 }],
  ])('refuses the range %o', (range) => {
    expect(() => new PortAllocator(range)).toThrow(RangeError);
  });
});
