import { once } from 'node:events';
import type { Server } from 'node:net';
import { PortRangeExhaustedError } from '../errors.js';

/** An inclusive range of TCP ports. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** 32-bit FNV-1a: a small, stable hash for picking a preferred port. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Listens on `host:port`; rejects with the server's error (e.g. EADDRINUSE). */
async function listenOn(server: Server, host: string, port: number): Promise<void> {
  const ready = once(server, 'listening');
  server.listen({ host, port, exclusive: true });
  await ready;
}

function isAddressInUse(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 'EADDRINUSE' || error.code === 'EACCES');
}

/**
 * Hands out listen ports from a range. The first port tried for an identity
 * is derived from a hash of it, so that the same forward (same client, same
 * requested port) usually gets the same port back after a reconnect or a
 * gateway restart; collisions probe linearly. Ports another process holds
 * are skipped.
 */
export class PortAllocator {
  readonly range: PortRange;
  readonly #taken = new Set<number>();

  constructor(range: PortRange) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1 || range.max > 65535 || range.min > range.max) {
      throw new RangeError(`invalid port range ${range.min}-${range.max}`);
    }
    this.range = range;
  }

  /** How many ports this allocator currently holds. */
  get size(): number {
    return this.#taken.size;
  }

  /** The port tried first for `identity`. */
  preferredPort(identity: string): number {
    const span = this.range.max - this.range.min + 1;
    return this.range.min + (fnv1a(identity) % span);
  }

  /**
   * Makes `server` listen on a free port of the range on `host`, starting at
   * the identity's preferred port. Resolves to the port; rejects with
   * {@link PortRangeExhaustedError} when no port is free.
   */
  async listen(server: Server, host: string, identity: string): Promise<number> {
    const span = this.range.max - this.range.min + 1;
    const first = this.preferredPort(identity) - this.range.min;
    for (let i = 0; i < span; i++) {
      const port = this.range.min + ((first + i) % span);
      if (this.#taken.has(port)) continue;
      // Reserve before the asynchronous listen so concurrent requests never pick the same port.
      this.#taken.add(port);
      try {
        await listenOn(server, host, port);
        return port;
      } catch (error) {
        this.#taken.delete(port);
        if (!isAddressInUse(error)) throw error;
      }
    }
    throw new PortRangeExhaustedError(`no free port left in ${this.range.min}-${this.range.max}`);
  }

  /** Gives a port back. */
  release(port: number): void {
    this.#taken.delete(port);
  }
}
