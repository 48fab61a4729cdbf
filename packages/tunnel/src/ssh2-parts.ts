/**
 * ssh2's server, client and key parser, each loaded on its own. ssh2's index
 * (`import ssh2 from 'ssh2'`) loads all of ssh2 at once: the client, the
 * server, the agents, the HTTP agents and key generation. The gateway needs
 * only the server and the bastion only the client; loading one part leaves
 * the others' code out of the process (ADR 10, the gateway's memory
 * budget; figures in docs/benchmarks.md). The types are ssh2's own.
 */
import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

const load = createRequire(import.meta.url);

/** ssh2's `Server` class. */
export function sshServerClass(): typeof ssh2.Server {
  return load('ssh2/lib/server.js') as typeof ssh2.Server;
}

/** ssh2's `Client` class. */
export function sshClientClass(): typeof ssh2.Client {
  return load('ssh2/lib/client.js') as typeof ssh2.Client;
}

/**
 * ssh2's `utils.parseKey`, loaded with this module: whoever parses keys
 * (both sides) needs it, and a call then resolves no module (the gateway
 * parses a key per pod that connects).
 */
export const parseKey: typeof ssh2.utils.parseKey = (load('ssh2/lib/protocol/keyParser.js') as typeof ssh2.utils).parseKey;
