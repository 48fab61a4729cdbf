import { parseAllDocuments } from 'yaml';
import { isNamePrefix, podsNamed, type ClusterReader } from './checks.js';
import type { Cleanable, CleanCondition, CleanConfig } from './validation.js';

/** The writes of a conformance run on the cluster it tests. */
export interface ClusterWriter {
  /** Creates every object of a multi-document manifest (as `kubectl create -f`); throws with the server's message. */
  create(manifests: string): Promise<void>;
  /**
   * Deletes every object of a manifest that still exists, without waiting;
   * owned objects (a Job's pods) are deleted by the garbage collector.
   */
  deleteManifests(manifests: string): Promise<void>;
  /** Deletes one object; one that does not exist is not an error. */
  deleteObject(type: Cleanable, namespace: string, name: string): Promise<void>;
}

/** Whether a `clean_configs[]` entry deletes, given how the checks ended (upstream's rule). */
export function shouldClean(condition: CleanCondition, succeeded: boolean): boolean {
  switch (condition) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'onSuccess':
      return succeeded;
    case 'onFailure':
      return !succeeded;
  }
}

/**
 * Runs the `clean_configs` of a template once its checks are over, each
 * according to its condition. A `pod` entry whose name ends in `-` deletes
 * every pod with that prefix (upstream deletes the literal name, which does
 * not exist). Nothing waits for the deletions. Returns what could not be
 * deleted, one line each; it never throws.
 */
export async function runCleanConfigs(
  configs: readonly CleanConfig[],
  succeeded: boolean,
  cluster: ClusterReader & ClusterWriter,
): Promise<string[]> {
  const problems: string[] = [];
  for (const config of configs) {
    if (!shouldClean(config.condition, succeeded)) continue;
    try {
      if (config.type === 'pod' && isNamePrefix(config.name)) {
        for (const pod of await podsNamed(cluster, config.namespace, config.name)) {
          await cluster.deleteObject('pod', config.namespace, pod.name);
        }
      } else {
        await cluster.deleteObject(config.type, config.namespace, config.name);
      }
    } catch (error) {
      problems.push(`clean-up of ${config.type} ${config.namespace}/${config.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

/** An object of a manifest, by identity. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
}

/** The objects a multi-document manifest creates (empty documents skipped). */
export function manifestObjects(manifests: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const doc of parseAllDocuments(manifests)) {
    if (doc.errors.length > 0) throw new Error(`manifest: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const o = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') throw new Error('manifest: an object without kind or metadata.name');
    objects.push({
      apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : '',
      kind: o.kind,
      name: o.metadata.name,
      namespace: typeof o.metadata.namespace === 'string' ? o.metadata.namespace : undefined,
    });
  }
  return objects;
}

/**
 * The pods a manifest brings about, as check names: a Pod by its name, a Job's
 * pods by the prefix `<job>-` (see {@link isNamePrefix}).
 */
export function podNamesOf(objects: readonly ManifestObject[]): { namespace: string; name: string }[] {
  const out: { namespace: string; name: string }[] = [];
  for (const o of objects) {
    if (o.namespace === undefined) continue;
    if (o.kind === 'Pod') out.push({ namespace: o.namespace, name: o.name });
    if (o.kind === 'Job') out.push({ namespace: o.namespace, name: `${o.name}-` });
  }
  return out;
}
