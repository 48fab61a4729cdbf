import { describe, expect, it } from '@jest/globals';
import { conformanceMarkdown, type ConformanceRun } from './docs.js';

const run: ConformanceRun = {
  environment: 'the local cluster with InterLink 0.6.2 in front of this plugin, and the remote cluster',
  node: 'virtual-kubelet',
  namespace: 'interlink',
  timeoutMultiplier: 10,
  command: 'pnpm conformance --write-docs',
  upstream: { repository: 'interlink-hq/vk-test-set', commit: '3404e2d' },
  date: '2026-12-08',
  results: [
    { template: '000-hello-world', title: 'Hello world', result: 'passed', seconds: 4.26, detail: '1 pod and 1 log checks passed (run 1a2b3c4d)' },
    { template: '050-limits', title: 'Testing limits', result: 'skipped', seconds: 0, detail: 'needs the internet' },
    { template: '100-failing-containers', title: 'Failing | Containers', result: 'failed', seconds: 450, detail: 'not within 450 s:\nlog of x' },
  ],
};

describe('conformanceMarkdown', () => {
  const page = conformanceMarkdown(run);

  it('has one table row per template: name, title, result, seconds', () => {
    expect(page).toContain('| template | title | result | seconds |');
    expect(page).toContain('| 000-hello-world | Hello world | passed | 4.3 |');
    expect(page).toContain('| 050-limits | Testing limits | skipped |  |');
    expect(page).toContain('| 100-failing-containers | Failing \\| Containers | failed | 450.0 |');
    expect(page).toContain('Result: 1 passed, 1 failed, 1 skipped.');
  });

  it('says where the templates come from, where it ran and how to regenerate it', () => {
    expect(page).toContain('[interlink-hq/vk-test-set](https://github.com/interlink-hq/vk-test-set) (commit 3404e2d, MIT licence)');
    expect(page).toContain(`Ran on ${run.environment}; pods pinned to node \`virtual-kubelet\`, namespace \`interlink\`,`);
    expect(page).toContain('```sh\npnpm conformance --write-docs\n```');
  });

  it('explains each failure on one line and why the four network templates are skipped', () => {
    expect(page).toContain('- `100-failing-containers`: not within 450 s: log of x');
    // A cause known to lie outside the runner and the plugin is said under the failure.
    expect(page).toMatch(/log of x\n\n {2}Its `oom-simulation` pod .*\n(.*\n)* {2}the template flushes \(`python3 -u`\)/);
    for (const id of ['050', '060', '065', '070']) expect(page).toMatch(new RegExp(`- \`${id}\`: needs the internet`));
  });

  it('has no failure section when nothing failed', () => {
    expect(conformanceMarkdown({ ...run, results: run.results.slice(0, 2) })).not.toContain('## Failures');
  });
});
