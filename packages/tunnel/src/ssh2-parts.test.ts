import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { keygen, tempDir } from './__tests__/helpers.js';
import { parseKey, sshClientClass, sshServerClass } from './ssh2-parts.js';

const PARTS = fileURLToPath(new URL('./ssh2-parts.ts', import.meta.url));

/** The ssh2 modules a fresh `node` has loaded after calling `call` of ssh2-parts (Node strips the file's types). */
function ssh2ModulesLoadedBy(call: 'sshServerClass' | 'sshClientClass'): string[] {
  const script = [
    `const parts = await import(${JSON.stringify(PARTS)});`,
    `parts.${call}();`,
    `const loaded = Object.keys(process.getBuiltinModule('node:module')._cache);`,
    `console.log(JSON.stringify(loaded.filter((path) => path.includes('/ssh2/lib/')).map((path) => path.slice(path.indexOf('/ssh2/lib/') + 1))));`,
  ].join('\n');
  const output = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return JSON.parse(output) as string[];
}

describe("ssh2's parts, each loaded on its own", () => {
  it("are ssh2's server and client classes", () => {
    expect(sshServerClass().name).toBe(ssh2.Server.name);
    expect(sshClientClass().name).toBe(ssh2.Client.name);
    expect(typeof sshServerClass().prototype.listen).toBe('function');
    expect(typeof sshClientClass().prototype.connect).toBe('function');
  });

  it("parse keys as ssh2's own parser does", () => {
    const dir = tempDir();
    try {
      const key = keygen(dir.path, 'k');
      for (const text of [key.publicLine, key.privateText]) {
        const ours = parseKey(text);
        const theirs = ssh2.utils.parseKey(text);
        if (ours instanceof Error || Array.isArray(ours) || theirs instanceof Error || Array.isArray(theirs)) throw new Error(`${text} did not parse as one key`);
        expect({ type: ours.type, publicSSH: ours.getPublicSSH().toString('base64') }).toEqual({ type: theirs.type, publicSSH: theirs.getPublicSSH().toString('base64') });
        expect(ours.type).toBe('ssh-ed25519');
      }
      expect(parseKey('not a key')).toBeInstanceOf(Error);
    } finally {
      dir.remove();
    }
  });

  it("load the server without ssh2's index, client, agents or key generation", () => {
    const loaded = ssh2ModulesLoadedBy('sshServerClass');
    expect(loaded).toContain('ssh2/lib/server.js');
    for (const left of ['ssh2/lib/index.js', 'ssh2/lib/client.js', 'ssh2/lib/agent.js', 'ssh2/lib/http-agents.js', 'ssh2/lib/keygen.js']) expect(loaded).not.toContain(left);
  });

  it("load the client without ssh2's index or server", () => {
    const loaded = ssh2ModulesLoadedBy('sshClientClass');
    expect(loaded).toContain('ssh2/lib/client.js');
    for (const left of ['ssh2/lib/index.js', 'ssh2/lib/server.js']) expect(loaded).not.toContain(left);
  });
});
