// Runs every project's typecheck, lint and test targets through Nx, streams
// the output, and closes with one plain line totalling jest's own summaries
// ("N passed, N failed") so that a reader of the log needs no scrolling.
// The exit code is Nx's: any failed target fails the run.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const args = ['exec', 'nx', 'run-many', '-t', 'typecheck', 'lint', 'test', '--parallel=1', '--outputStyle=stream', ...process.argv.slice(2)];
const child = spawn('pnpm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const totals = { passed: 0, failed: 0, skipped: 0, suites: 0 };
const ansi = /\u001b\[[0-9;]*m/g;

for (const stream of [child.stdout, child.stderr]) {
  const sink = stream === child.stdout ? process.stdout : process.stderr;
  createInterface({ input: stream }).on('line', (raw) => {
    sink.write(`${raw}\n`);
    const line = raw.replace(ansi, '');
    const m = /Tests:\s+(.*)\btotal\b/.exec(line);
    if (!m?.[1]) return;
    totals.suites += 1;
    for (const [, n, what] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
      if (what === 'passed' || what === 'failed' || what === 'skipped') totals[what] += Number(n);
    }
  });
}

child.on('close', (code) => {
  console.log(`\njest projects: ${totals.suites}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(code ?? 1);
});
