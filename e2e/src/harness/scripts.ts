import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** Absolute path of a script in `e2e/scripts/`. */
export function scriptPath(name: string): string {
  return fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url));
}

/** How to run one of the `e2e/scripts/*.sh`. */
export interface RunScriptOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Receives each progress line (the script's stderr) as it comes. */
  log?: (line: string) => void;
}

/**
 * Runs `bash e2e/scripts/<name> ...args` and resolves with the last line of
 * its stdout (the scripts' one result). Their progress goes to stderr, which is
 * forwarded line by line to `log`; a failure rejects with the exit status and
 * the last progress lines.
 */
export function runScript(name: string, args: readonly string[], opts: RunScriptOptions = {}): Promise<string> {
  const path = scriptPath(name);
  const child = spawn('bash', [path, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  const tail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    opts.log?.(line);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) {
        const last = Buffer.concat(out).toString('utf8').trimEnd().split('\n').at(-1) ?? '';
        resolve(last.trim());
        return;
      }
      const how = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
      reject(new Error(`${name} ${args.join(' ')} failed (${how}); last lines:\n${tail.join('\n')}`));
    });
  });
}
