import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's `charts/` directory. */
export const CHARTS_DIR = fileURLToPath(new URL('../../../charts/', import.meta.url));

const SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/', import.meta.url));

/** Runs a build script of `e2e/scripts` (a no-op once built) and returns the last line it printed. */
function lastLineOf(script: string, args: readonly string[] = []): string {
  // stderr is inherited so that a first, minutes-long build shows progress.
  const out = execFileSync('bash', [join(SCRIPTS_DIR, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').at(-1)?.trim();
  if (last === undefined || last === '') throw new Error(`${script} printed nothing`);
  return last;
}

/** The helm binary built by `e2e/scripts/build-helm.sh` (built on first use). */
export function helmBinary(): string {
  return lastLineOf('build-helm.sh');
}

/** The kubectl binary built by `e2e/scripts/build-binaries.sh kubectl` (built on first use). */
export function kubectlBinary(): string {
  return join(lastLineOf('build-binaries.sh', ['kubectl']), 'kubectl');
}

/** What a finished command printed, and how it ended. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and with what environment a command runs (default: this process's). */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to its end with `input` on stdin; never throws for a non-zero exit. */
export function runTool(command: string, args: readonly string[], input = '', options: RunOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd, env: options.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    // A command that exits before reading its input (helm refusing values at
    // once) closes the pipe: its exit status and output tell what happened.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/** Like {@link runTool}, but a non-zero exit throws with the command's stderr. */
export async function runToolOk(command: string, args: readonly string[], input = '', options: RunOptions = {}): Promise<string> {
  const result = await runTool(command, args, input, options);
  if (result.code !== 0) {
    throw new Error(`${[command, ...args].join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** A Kubernetes object as JSON, untyped beyond what every object has. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/**
 * Splits a stream of concatenated JSON values (what `kubectl -o json` prints
 * for several objects) into the values.
 */
export function parseJsonStream(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0 || inString) throw new Error('truncated JSON stream');
  return values;
}

/** What `helm template` renders from. */
export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files (`-f`), in order. */
  valuesFiles?: readonly string[];
  /** `--set-json key=<json>` pairs, in order. */
  setJson?: Readonly<Record<string, unknown>>;
}

/** helm, run against the charts of this repository. */
export class Helm {
  readonly binary: string;

  constructor(binary: string) {
    this.binary = binary;
  }

  /** `helm template` arguments for a chart of `charts/` (name only) and its values. */
  templateArgs(chart: string, options: RenderOptions = {}): string[] {
    const args = ['template', options.release ?? 'e2e', join(CHARTS_DIR, chart), '--namespace', options.namespace ?? 'default'];
    for (const file of options.valuesFiles ?? []) args.push('--values', file);
    for (const [key, value] of Object.entries(options.setJson ?? {})) args.push('--set-json', `${key}=${JSON.stringify(value)}`);
    return args;
  }

  /** The rendered manifests (multi-document YAML); throws with helm's message when rendering fails. */
  template(chart: string, options: RenderOptions = {}): Promise<string> {
    return runToolOk(this.binary, this.templateArgs(chart, options));
  }

  /** `helm template`, whatever the outcome (for tests of refused values). */
  tryTemplate(chart: string, options: RenderOptions = {}): Promise<ToolResult> {
    return runTool(this.binary, this.templateArgs(chart, options));
  }

  /** `helm lint --strict` of a chart of `charts/`, with one values file or the defaults. */
  lint(chart: string, valuesFile?: string): Promise<ToolResult> {
    const args = ['lint', '--strict', join(CHARTS_DIR, chart)];
    if (valuesFile !== undefined) args.push('--values', valuesFile);
    return runTool(this.binary, args);
  }
}

/** kubectl against one cluster. */
export class Kubectl {
  readonly binary: string;
  readonly kubeconfig: string;

  constructor(binary: string, kubeconfig: string) {
    this.binary = binary;
    this.kubeconfig = kubeconfig;
  }

  /** Runs kubectl with `args`; throws with its stderr on failure. */
  run(args: readonly string[], input = ''): Promise<string> {
    return runToolOk(this.binary, ['--kubeconfig', this.kubeconfig, ...args], input);
  }

  /** Runs kubectl with `args`, whatever the outcome. */
  tryRun(args: readonly string[], input = ''): Promise<ToolResult> {
    return runTool(this.binary, ['--kubeconfig', this.kubeconfig, ...args], input);
  }

  /**
   * The objects of a multi-document YAML manifest as JSON, as written (a
   * client-side dry run: nothing is sent to the server but discovery).
   */
  async objects(manifest: string): Promise<KubeObject[]> {
    if (manifest.trim() === '') return [];
    const json = await this.run(['create', '--dry-run=client', '--output=json', '--filename=-'], manifest);
    return parseJsonStream(json) as KubeObject[];
  }

  /** `kubectl apply --dry-run=server`: the API server validates and admits every object, storing nothing. */
  dryRunApply(manifest: string, namespace: string): Promise<ToolResult> {
    return this.tryRun(['apply', '--dry-run=server', '--validate=strict', '--namespace', namespace, '--filename=-'], manifest);
  }
}

/** The values files of a chart's `ci/` directory, sorted. */
export function ciFiles(chart: string): string[] {
  return readdirSync(join(CHARTS_DIR, chart, 'ci'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** The path of a values file of a chart's `ci/` directory. */
export function ciPath(chart: string, file: string): string {
  return join(CHARTS_DIR, chart, 'ci', file);
}

/** Creates `name` enforcing (and warning about) Pod Security "restricted", as the charts must pass. */
export async function createRestrictedNamespace(kubectl: Kubectl, name: string): Promise<void> {
  await kubectl.run(['create', 'namespace', name]);
  await kubectl.run(['label', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
}

/** Installs prometheus-operator's real ServiceMonitor CRD (a fixture) and waits until it is served. */
export async function installServiceMonitorCrd(kubectl: Kubectl): Promise<void> {
  const crd = fileURLToPath(new URL('./fixtures/servicemonitor-crd.yaml', import.meta.url));
  await kubectl.run(['apply', '--server-side', '--force-conflicts', '--filename', crd]);
  await kubectl.run(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com']);
}

/** The one object of `kind` (and `name`, when given) among `objects`; throws naming what is missing. */
export function objectOf(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  const [only] = found;
  if (only === undefined || found.length > 1) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length} among: ${have}`);
  }
  return only;
}
