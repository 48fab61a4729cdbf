import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** How a managed process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What to run and where its output goes. */
export interface ProcessSpec {
  /** Short name used in messages, e.g. `kube-apiserver`. */
  name: string;
  /** Absolute path of the executable. */
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended to this file. */
  logPath: string;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
}

/** A child process of this Node process whose life the harness controls. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once it happened; `undefined` while the process runs. */
  exitInfo(): ProcessExit | undefined;
  /** SIGTERM, then SIGKILL when the process is still alive after `graceMs`. */
  stop(graceMs?: number): Promise<ProcessExit>;
  /** The last `lines` lines of the log file, for error messages. */
  logTail(lines?: number): string;
}

// setpriv (util-linux) sets PR_SET_PDEATHSIG before exec'ing the binary, so
// the kernel kills the child even when this process dies from SIGKILL or a
// crash, where no 'exit' handler runs. Found once, lazily: no import-time I/O.
let setprivPath: string | null | undefined;
function findSetpriv(): string | null {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
  }
  return setprivPath;
}

const live = new Set<ChildProcess>();
function killLiveSync(): void {
  for (const child of live) child.kill('SIGKILL');
}
// Inside jest test files `process` is a per-file copy whose 'exit' never
// fires; there the parent-death signal above is what actually cleans up.
function track(child: ChildProcess): void {
  // The listener is registered only while children run, so repeated use in
  // one process (jest workers run many files) never piles up listeners.
  if (live.size === 0) process.on('exit', killLiveSync);
  live.add(child);
}
function untrack(child: ChildProcess): void {
  if (live.delete(child) && live.size === 0) process.off('exit', killLiveSync);
}

/**
 * Starts `spec.command` with its output appended to `spec.logPath`.
 *
 * The child is killed when this process exits: synchronously from an `exit`
 * handler, and by the kernel (parent-death signal) when `setpriv` exists.
 */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  accessSync(spec.command, constants.X_OK);
  const setpriv = findSetpriv();
  const [file, args] =
    setpriv === null
      ? [spec.command, [...spec.args]]
      : [setpriv, ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]];
  // A file descriptor instead of pipes: no stream handles keep the event loop
  // alive, and output keeps flowing even if nobody reads it.
  const fd = openSync(spec.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const { pid } = child;
  if (pid === undefined) {
    throw new Error(`${spec.name}: spawn of ${spec.command} failed`);
  }
  track(child);

  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      untrack(child);
      resolve(exit);
    });
  });

  const logTail = (lines = 40): string => {
    try {
      const text = readFileSync(spec.logPath, 'utf8').trimEnd();
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const stop = async (graceMs = 5000): Promise<ProcessExit> => {
    if (exit !== undefined) return exit;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, graceMs);
    });
    try {
      const first = await Promise.race([exited, timedOut]);
      if (first !== 'timeout') return first;
      child.kill('SIGKILL');
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    name: spec.name,
    pid,
    logPath: spec.logPath,
    exited,
    exitInfo: () => exit,
    stop,
    logTail,
  };
}

/** Describes an exit for humans: `exit code 1` or `signal SIGKILL`. */
export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exit code ${String(exit.code)}` : `signal ${exit.signal}`;
}

/** A process's memory in MiB, from `/proc/<pid>/status`: resident, its anonymous part (not file-backed pages such as the `node` binary's), and the highest resident so far. */
export async function memoryOf(pid: number): Promise<{ rss: number; anon: number; hwm: number }> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, hwm: kib('VmHWM') / 1024 };
}
