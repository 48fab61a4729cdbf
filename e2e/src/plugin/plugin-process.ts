import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** A plugin server running as its own process, as it runs next to InterLink. */
export interface PluginProcess {
  /** `http://127.0.0.1:<port>`, or `unix://<path>` when it listens on a unix socket. */
  url: string;
  /** Its TCP port on 127.0.0.1 (0 on a unix socket). */
  port: number;
  /** Its unix socket, when it listens on one. */
  socketPath?: string;
  /** Its process id (for memory readings). */
  pid: number;
  /** Where its JSON log lines go. */
  logPath: string;
  /** SIGTERM, then wait for a graceful exit (SIGKILL after the timeout). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Options for {@link startPluginProcess}. */
export interface PluginProcessOptions {
  /** Directory for the generated config.ini and the log. */
  dir: string;
  /** Remote cluster kubeconfig. */
  kubeconfigPath: string;
  /** Extra `[section] key = value` settings. */
  settings?: Record<string, Record<string, string>>;
  /** Extra environment variables (they override the ini file, as in production). */
  env?: Record<string, string>;
  /** Listen on this TCP port (a restarted plugin keeps its address); default a free one. */
  port?: number;
  /** Listen on this unix socket instead of TCP. */
  socketPath?: string;
}

/**
 * The Node flags the plugin is run with. A small young generation keeps the
 * resident set close to the live heap: with V8's defaults on a large machine
 * the heap grows lazily to several times what is live (see docs/benchmarks.md).
 */
export const PLUGIN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const address = srv.address();
  srv.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** The built entry point of the server package (`dist/main.js`). */
export function pluginEntryPoint(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@interlink-k8s/server/package.json')), 'dist', 'main.js');
}

/**
 * Starts the built plugin server as a child process with a generated
 * `config.ini` (the reference plugin's keys) and waits until `/readyz` is 200.
 */
export async function startPluginProcess(opts: PluginProcessOptions): Promise<PluginProcess> {
  const socketPath = opts.socketPath;
  const port = socketPath === undefined ? (opts.port ?? (await freePort())) : 0;
  const settings: Record<string, Record<string, string>> = {
    app: socketPath === undefined ? { socket_address: 'http://127.0.0.1', socket_port: String(port) } : { socket_address: `unix://${socketPath}` },
    log: { level: 'info' },
    k8s: { kubeconfig_path: opts.kubeconfigPath },
    offloading: { namespace_prefix: 'offloading' },
  };
  for (const [section, values] of Object.entries(opts.settings ?? {})) {
    settings[section] = { ...settings[section], ...values };
  }
  const ini = Object.entries(settings)
    .map(([section, values]) => `[${section}]\n${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
  const configPath = join(opts.dir, 'config.ini');
  await writeFile(configPath, ini);
  const logPath = join(opts.dir, 'plugin.log');
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn(process.execPath, [...PLUGIN_NODE_FLAGS, pluginEntryPoint()], {
    env: { ...process.env, CONFIG_FILE_PATH: configPath, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = socketPath === undefined ? `http://127.0.0.1:${port}` : `unix://${socketPath}`;
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the plugin exited with ${child.exitCode} during start-up; see ${logPath}`);
    if ((await readyzStatus(port, socketPath)) === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the plugin was not ready within 30 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    ...(socketPath === undefined ? {} : { socketPath }),
    pid: child.pid ?? 0,
    logPath,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

// GET /readyz over TCP or the unix socket; 0 while nothing answers.
function readyzStatus(port: number, socketPath: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const target = socketPath === undefined ? { host: '127.0.0.1', port } : { socketPath };
    const req = request({ ...target, path: '/readyz', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(0);
    });
    req.end();
  });
}
