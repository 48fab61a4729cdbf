/**
 * Runs the InterLink vk-test-set templates against a cluster and prints a
 * table; with --write-docs, regenerates docs/conformance.md.
 *
 *   pnpm conformance                      (a fresh sandbox: the real InterLink in front of this plugin; root)
 *   pnpm conformance --kubeconfig local.kubeconfig --node virtual-node   (a cluster of your own)
 *   pnpm conformance --remote-only --only 000,010     (a fresh control plane + real node, no InterLink; root)
 *
 * Options: --kubeconfig (or $KUBECONFIG), --node (or $CONFORMANCE_NODE),
 * --namespace (default: the upstream configuration's), --only 010,020,
 * --exclude 100, --timeout-multiplier N (default: the configuration's),
 * --templates DIR, --config FILE, --environment TEXT (for the docs),
 * --write-docs, --remote-only. Exit code 1 when a template failed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startControlPlane, startRemoteNode, type ControlPlane, type RemoteNode } from '../harness/index.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { conformanceMarkdown } from './docs.js';
import { readRunnerConfig, runConformance, type TemplateResult } from './runner.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_TEMPLATES = resolve(REPO_ROOT, '../shared/conformance/vk-test-set/templates');
const DOCS_PATH = join(REPO_ROOT, 'docs/conformance.md');

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    node: { type: 'string' },
    namespace: { type: 'string' },
    only: { type: 'string' },
    exclude: { type: 'string' },
    'timeout-multiplier': { type: 'string' },
    templates: { type: 'string' },
    config: { type: 'string' },
    environment: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
    'remote-only': { type: 'boolean', default: false },
  },
  strict: true,
});

const t0 = Date.now();
const progress = (line: string): void => {
  process.stderr.write(`[conformance ${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}\n`);
};
const list = (text: string | undefined): string[] | undefined =>
  text?.split(',').map((s) => s.trim()).filter((s) => s !== '');

const templatesDir = resolve(args.templates ?? DEFAULT_TEMPLATES);
const configPath = resolve(args.config ?? join(dirname(templatesDir), 'vktest_config.example.yaml'));
const config = await readRunnerConfig(configPath);
const namespace = args.namespace ?? process.env.CONFORMANCE_NAMESPACE ?? config.namespace;
const multiplierArg = args['timeout-multiplier'];
const timeoutMultiplier = multiplierArg === undefined ? config.timeoutMultiplier : Number(multiplierArg);
if (!(timeoutMultiplier > 0)) throw new Error(`--timeout-multiplier: expected a positive number, got ${multiplierArg ?? ''}`);

let controlPlane: ControlPlane | undefined;
let node: RemoteNode | undefined;
let sandbox: Sandbox | undefined;
let results: TemplateResult[];
let target: { kubeconfig: string; node: string; environment: string };
try {
  if (args['remote-only']) {
    progress('starting a control plane with a real node (no InterLink)');
    controlPlane = await startControlPlane({ name: 'conformance', scheduler: true });
    // `pnpm conformance` has run prepare.sh (packages, binaries, images) already.
    node = await startRemoteNode(controlPlane, {
      prepare: false,
      log: (line) => {
        if (/ERROR|WARNING|failed/.test(line)) progress(line);
      },
    });
    target = {
      kubeconfig: controlPlane.kubeconfigPath,
      node: node.name,
      environment: 'the remote cluster alone (kube-apiserver, kube-scheduler and a real containerd + kubelet node), without InterLink or this plugin',
    };
  } else if (args.kubeconfig !== undefined || args.node !== undefined) {
    const kubeconfig = args.kubeconfig ?? process.env.KUBECONFIG;
    const nodeName = args.node ?? process.env.CONFORMANCE_NODE;
    if (kubeconfig === undefined || nodeName === undefined) {
      throw new Error('give the cluster: --kubeconfig (or KUBECONFIG) and --node (or CONFORMANCE_NODE); or nothing, for a fresh sandbox');
    }
    target = { kubeconfig: resolve(kubeconfig), node: nodeName, environment: `the cluster of ${kubeconfig}` };
  } else {
    progress('starting the sandbox: two clusters, InterLink\'s Virtual Kubelet and API server, the plugin');
    sandbox = await startSandbox({ dir: await mkdtemp(join(tmpdir(), 'interlink-k8s-conformance-')), log: progress });
    await sandbox.interlink.waitNodeReady();
    target = {
      kubeconfig: sandbox.local.kubeconfigPath,
      node: sandbox.interlink.nodeName,
      environment:
        'the sandbox: InterLink 0.6.2 (its Virtual Kubelet and API server, built from source) in front of this plugin, in a local cluster (kube-apiserver, kube-scheduler), offloading to a remote cluster with a real containerd + kubelet node; pods judged in the local cluster',
    };
  }
  progress(`templates ${templatesDir}, node ${target.node}, namespace ${namespace}, timeouts × ${timeoutMultiplier}`);
  const only = list(args.only);
  const exclude = list(args.exclude);
  results = await runConformance({
    kubeconfigPath: target.kubeconfig,
    targetNode: target.node,
    templatesDir,
    configPath,
    namespace,
    timeoutMultiplier,
    ...(only === undefined ? {} : { only }),
    ...(exclude === undefined ? {} : { exclude }),
    log: progress,
  });
} finally {
  await sandbox?.stop();
  await node?.stop();
  await controlPlane?.stop();
}

console.log(table(results));
if (args['write-docs']) {
  await writeFile(
    DOCS_PATH,
    conformanceMarkdown({
      environment: args.environment ?? target.environment,
      node: target.node,
      namespace,
      timeoutMultiplier,
      command: ['pnpm conformance', ...process.argv.slice(2)].join(' '),
      upstream: upstreamOf(templatesDir),
      date: new Date().toISOString().slice(0, 10),
      results,
    }),
  );
  progress(`wrote ${DOCS_PATH}`);
}
process.exitCode = results.some((r) => r.result === 'failed') ? 1 : 0;

function table(rows: readonly TemplateResult[]): string {
  const header = ['template', 'result', 'seconds', 'detail'];
  const cells = rows.map((r) => [r.template, r.result, r.result === 'skipped' ? '' : r.seconds.toFixed(1), r.detail.replace(/\s+/g, ' ')]);
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c.map((text, i) => (i < 3 ? text.padEnd(widths[i] ?? 0) : text.length > 160 ? `${text.slice(0, 160)}…` : text)).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

// The data's README names its upstream commit ("commit 3404e2d").
function upstreamOf(dir: string): { repository: string; commit: string } {
  const readme = join(dirname(dir), 'README.md');
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  return {
    repository: /`([\w.-]+\/vk-test-set)`/.exec(text)?.[1] ?? 'interlink-hq/vk-test-set',
    commit: /commit ([0-9a-f]{7,40})/.exec(text)?.[1] ?? 'unknown',
  };
}
