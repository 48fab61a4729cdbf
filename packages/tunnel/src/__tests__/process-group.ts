import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Stops a child spawned with `detached: true` together with its whole
 * process group (sshd, for one, forks per connection): `signal` first, then
 * SIGKILL after `graceMs`. Resolves once the child has exited.
 */
export async function stopProcessGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (child.exitCode !== null || child.signalCode !== null || pid === undefined) return;
  const exited = once(child, 'exit');
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone.
    }
  };
  kill(signal);
  const timer = setTimeout(() => {
    kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
