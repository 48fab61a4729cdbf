import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { podsNamed, systemClock, validate, type Clock } from './checks.js';
import { manifestObjects, podNamesOf, runCleanConfigs } from './cleanup.js';
import { kubeCluster, type SuiteCluster } from './kube-cluster.js';
import { listTemplates, newRunId, prepareTemplate, type TemplateFile, type TemplateValues } from './template.js';

/** The taint of InterLink's virtual node; the templates' pods must tolerate it. */
export const VIRTUAL_NODE_TAINT = 'virtual-node.interlink/no-schedule';

/**
 * Templates skipped unless asked for by name (`only`): they reach the
 * internet from inside their pods, or pull an image nobody builds here.
 */
export const NETWORK_TEMPLATES: Readonly<Record<string, string>> = {
  '050': 'needs the internet: pip install numpy from PyPI inside the pod',
  '060': 'needs the internet: git clone from github.com in an init container',
  '065': 'needs the internet: apk add python3 from the Alpine mirrors in an init container',
  '070': 'needs the internet: the landerlini/vktestset-rclone-bind image (rclone, sshd) from Docker Hub',
};

/** How to run the suite. */
export interface ConformanceOptions {
  /** The cluster whose pods are judged (with InterLink: the local cluster). */
  kubeconfigPath: string;
  /** The node the templates' pods are pinned to (`kubernetes.io/hostname`), InterLink's virtual node. */
  targetNode: string;
  /** The directory of the templates (`*.yaml`). */
  templatesDir: string;
  /** Where the pods go; default: the configuration's `values.namespace`. Created when missing, and then deleted at the end. */
  namespace?: string;
  /**
   * The upstream runner's configuration (`values` for the templates,
   * `timeout_multiplier`); default: `vktest_config.example.yaml` beside the
   * templates directory.
   */
  configPath?: string;
  /** Only these templates (by number, `010`, or file name without `.yaml`), in file order; they run even when skipped by default. */
  only?: readonly string[];
  /** Skip these too (by number or name). */
  exclude?: readonly string[];
  /** Multiplies every template's `timeout_seconds`; default: the configuration's `timeout_multiplier`. */
  timeoutMultiplier?: number;
  /** Progress, one line at a time. */
  log?: (line: string) => void;
}

/** The outcome of one template. */
export interface TemplateResult {
  /** File name without `.yaml`. */
  template: string;
  /** Its first `## ` line. */
  title: string;
  result: 'passed' | 'failed' | 'skipped';
  /** From creating its objects to the end of its checks and clean-up. */
  seconds: number;
  /** Why it failed or was skipped; for a pass, what was checked. Includes the run id. */
  detail: string;
}

/** The settings of one suite run, resolved. */
export interface SuiteSettings {
  /** Every variable but `uuid`, which is new for each template. */
  values: Omit<TemplateValues, 'uuid'>;
  timeoutMultiplier: number;
  /** How long the final clean-up waits for the run's pods (and namespace) to be gone; default 180 s. */
  sweepTimeoutMs?: number;
  clock?: Clock;
  newId?: () => string;
  log?: (line: string) => void;
}

/** A template of the run, and why it is skipped (if it is). */
export interface PlannedTemplate {
  file: TemplateFile;
  skip: string | undefined;
}

const RunnerConfigSchema = z.object({
  timeout_multiplier: z.number().positive().default(1),
  values: z.object({
    namespace: z.string().min(1),
    annotations: z.record(z.string(), z.string()).nullish(),
    tolerations: z.array(z.object({ key: z.string().optional() }).loose()),
  }),
});

/** The upstream runner's configuration file, the parts this runner uses. */
export interface RunnerConfig {
  timeoutMultiplier: number;
  namespace: string;
  annotations: Record<string, string>;
  tolerations: unknown[];
}

/**
 * Reads the upstream runner's configuration (`vktest_config.yaml`); its
 * `values.tolerations` must tolerate {@link VIRTUAL_NODE_TAINT}.
 */
export async function readRunnerConfig(path: string): Promise<RunnerConfig> {
  const parsed = RunnerConfigSchema.safeParse(parse(await readFile(path, 'utf8'), { version: '1.1' }));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const { values } = parsed.data;
  if (!values.tolerations.some((t) => t.key === VIRTUAL_NODE_TAINT)) {
    throw new Error(`${path}: values.tolerations must tolerate ${VIRTUAL_NODE_TAINT}`);
  }
  return {
    timeoutMultiplier: parsed.data.timeout_multiplier,
    namespace: values.namespace,
    annotations: values.annotations ?? {},
    tolerations: values.tolerations,
  };
}

/**
 * Which templates run: all (or those of `only`, which then run even if
 * skipped by default), the four of {@link NETWORK_TEMPLATES} and those of
 * `exclude` marked skipped with the reason. An unknown name in `only` or
 * `exclude` is an error.
 */
export function planTemplates(templates: readonly TemplateFile[], only?: readonly string[], exclude?: readonly string[]): PlannedTemplate[] {
  const matches = (file: TemplateFile, key: string): boolean => file.id === key || file.name === key;
  for (const key of [...(only ?? []), ...(exclude ?? [])]) {
    if (!templates.some((file) => matches(file, key))) {
      throw new Error(`no template ${key}; there are: ${templates.map((t) => t.id).join(', ')}`);
    }
  }
  const chosen = only === undefined || only.length === 0 ? templates : templates.filter((file) => only.some((key) => matches(file, key)));
  return chosen.map((file) => {
    if (exclude?.some((key) => matches(file, key)) === true) return { file, skip: 'excluded on the command line' };
    const named = only?.some((key) => matches(file, key)) === true;
    return { file, skip: named ? undefined : NETWORK_TEMPLATES[file.id] };
  });
}

/**
 * Runs the vk-test-set templates against a cluster: creates the namespace
 * if missing, then for each template, one after the other as the upstream
 * runner does, renders it with a fresh run id, creates its objects, runs its
 * checks and its `clean_configs`; at the end deletes whatever the run
 * created that is still there (Jobs with their pods, objects kept by a
 * clean-up condition, the namespace if it made it) and waits for the pods to
 * be gone.
 */
export async function runConformance(options: ConformanceOptions): Promise<TemplateResult[]> {
  const config = await readRunnerConfig(options.configPath ?? join(dirname(options.templatesDir), 'vktest_config.example.yaml'));
  const plan = planTemplates(await listTemplates(options.templatesDir), options.only, options.exclude);
  const cluster = kubeCluster(options.kubeconfigPath);
  return runSuite(plan, cluster, {
    values: {
      namespace: options.namespace ?? config.namespace,
      annotations: config.annotations,
      tolerations: config.tolerations,
      target_node: options.targetNode,
    },
    timeoutMultiplier: options.timeoutMultiplier ?? config.timeoutMultiplier,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}

/** {@link runConformance} once the templates are chosen and the cluster is reachable. */
export async function runSuite(plan: readonly PlannedTemplate[], cluster: SuiteCluster, settings: SuiteSettings): Promise<TemplateResult[]> {
  const log = settings.log ?? ((): void => undefined);
  const { namespace, target_node: node } = settings.values;
  if (!(await cluster.nodeExists(node))) throw new Error(`node ${node} does not exist`);
  const madeNamespace = !(await cluster.namespaceExists(namespace));
  if (madeNamespace) {
    await cluster.createNamespace(namespace);
    log(`namespace ${namespace} created`);
  }
  const results: TemplateResult[] = [];
  const created: string[] = [];
  try {
    for (const { file, skip } of plan) {
      if (skip !== undefined) {
        results.push({ template: file.name, title: file.title, result: 'skipped', seconds: 0, detail: skip });
        log(`${file.name}: skipped (${skip})`);
        continue;
      }
      log(`${file.name}: running`);
      const result = await runTemplate(file, cluster, settings, created);
      results.push(result);
      log(`${file.name}: ${result.result} in ${result.seconds.toFixed(1)} s${result.result === 'failed' ? `: ${result.detail}` : ''}`);
    }
  } finally {
    await sweep(cluster, created, madeNamespace ? namespace : undefined, settings, log);
  }
  return results;
}

/**
 * One template: render with a new run id, create, check, clean up.
 * `created` receives the manifests it created (for the final sweep).
 */
export async function runTemplate(
  file: TemplateFile,
  cluster: SuiteCluster,
  settings: SuiteSettings,
  created: string[],
): Promise<TemplateResult> {
  const clock = settings.clock ?? systemClock;
  const id = (settings.newId ?? newRunId)();
  const t0 = clock.now();
  const done = (result: 'passed' | 'failed', detail: string): TemplateResult => ({
    template: file.name,
    title: file.title,
    result,
    seconds: (clock.now() - t0) / 1000,
    detail: `${detail} (run ${id})`,
  });

  let prepared;
  try {
    prepared = prepareTemplate(file.source, { ...settings.values, uuid: id });
    manifestObjects(prepared.manifests);
  } catch (error) {
    return done('failed', `render: ${message(error)}`);
  }
  const { manifests, validation } = prepared;
  created.push(manifests);
  try {
    await cluster.create(manifests);
  } catch (error) {
    return done('failed', `create: ${message(error)}`);
  }
  const outcome = await validate(cluster, validation, settings.timeoutMultiplier, clock);
  const problems = await runCleanConfigs(validation.clean_configs, outcome.passed, cluster);
  const extra = problems.length === 0 ? '' : `; ${problems.join('; ')}`;
  if (!outcome.passed) return done('failed', `${outcome.reason}${extra}`);
  const checks = `${validation.check_pods.length} pod and ${validation.check_logs.length} log checks passed`;
  return done('passed', `${checks}${extra}`);
}

// Deletes everything the run created that is still there and waits (bounded)
// for its pods to be gone: a pod on InterLink's virtual node is gone locally
// once its remote copy is being deleted, so that stopping the clusters next
// leaves nothing running on the remote one.
async function sweep(
  cluster: SuiteCluster,
  created: readonly string[],
  namespace: string | undefined,
  settings: SuiteSettings,
  log: (line: string) => void,
): Promise<void> {
  const clock = settings.clock ?? systemClock;
  const pods = created.flatMap((manifests) => podNamesOf(manifestObjects(manifests)));
  for (const manifests of created) {
    try {
      await cluster.deleteManifests(manifests);
    } catch (error) {
      log(`clean-up: ${message(error)}`);
    }
  }
  if (namespace !== undefined) {
    await cluster.deleteObject('namespace', namespace, namespace).catch((error: unknown) => {
      log(`clean-up of namespace ${namespace}: ${message(error)}`);
    });
  }
  const deadline = clock.now() + (settings.sweepTimeoutMs ?? 180_000);
  for (;;) {
    const left: string[] = [];
    for (const pod of pods) {
      try {
        for (const p of await podsNamed(cluster, pod.namespace, pod.name)) left.push(`${pod.namespace}/${p.name}`);
      } catch {
        left.push(`${pod.namespace}/${pod.name} (unreadable)`);
      }
    }
    const namespaceLeft = namespace !== undefined && (await cluster.namespaceExists(namespace).catch(() => true));
    if (left.length === 0 && !namespaceLeft) {
      log(`clean-up: the run's objects are deleted and its pods gone`);
      return;
    }
    if (clock.now() > deadline) {
      log(`clean-up: still there after ${(settings.sweepTimeoutMs ?? 180_000) / 1000} s: ${[...left, ...(namespaceLeft ? [`namespace ${namespace}`] : [])].join(', ')}`);
      return;
    }
    await clock.sleep(1000);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
