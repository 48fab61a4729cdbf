import type { KubeObject } from './chart-tools.js';

/** A container of a pod template, as far as these tests read it. */
export interface ContainerJson {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVarJson[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: ProbeJson;
  readinessProbe?: ProbeJson;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  [field: string]: unknown;
}

/** An env entry: a literal or a reference to a Secret or ConfigMap key. */
export interface EnvVarJson {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

/** A probe: httpGet or exec, with its timing. */
export interface ProbeJson {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  [field: string]: unknown;
}

/** A volume, as far as these tests read it. */
export interface VolumeJson {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
  emptyDir?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A pod spec, as far as these tests read it. */
export interface PodSpecJson {
  containers: ContainerJson[];
  volumes?: VolumeJson[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  [field: string]: unknown;
}

/** A Deployment, as far as these tests read it. */
export interface DeploymentJson extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpecJson };
  };
}

/**
 * Key → text, for the data of the Secrets and ConfigMaps a pod refers to but
 * the chart does not render, keyed `Kind/name`; `Pod/self` gives the values of
 * downward-API fields by path (`status.podIP`).
 */
export type ExternalData = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** What one container sees at run time: its environment and the files of its mounted ConfigMaps and Secrets. */
export interface ContainerView {
  env: Record<string, string>;
  files: Map<string, string>;
}

function dataOf(objects: readonly KubeObject[], kind: 'Secret' | 'ConfigMap', name: string, external: ExternalData): Record<string, string> {
  const rendered = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (rendered === undefined) {
    const given = external[`${kind}/${name}`];
    if (given === undefined) throw new Error(`${kind} ${name} is neither rendered nor given`);
    return { ...given };
  }
  const data = (rendered.data ?? {}) as Record<string, string>;
  if (kind === 'ConfigMap') return { ...data };
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/**
 * What the kubelet would give `containerName` of the Deployment among
 * `objects`: literal env values and references resolved against the rendered
 * Secrets and ConfigMaps (or `external` ones, keyed `Kind/name`; downward-API
 * fields from `external['Pod/self']`), and the files of mounted ConfigMap and
 * Secret volumes by path.
 */
export function containerView(objects: readonly KubeObject[], containerName: string, external: ExternalData = {}): ContainerView {
  const deployment = objects.find((o) => o.kind === 'Deployment') as DeploymentJson | undefined;
  if (deployment === undefined) throw new Error('no Deployment rendered');
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c) => c.name === containerName);
  if (container === undefined) throw new Error(`no container ${containerName}`);

  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    const secretRef = entry.valueFrom?.secretKeyRef;
    const configMapRef = entry.valueFrom?.configMapKeyRef;
    const fieldRef = entry.valueFrom?.fieldRef;
    let value = entry.value;
    if (secretRef !== undefined) value = dataOf(objects, 'Secret', secretRef.name, external)[secretRef.key];
    if (configMapRef !== undefined) value = dataOf(objects, 'ConfigMap', configMapRef.name, external)[configMapRef.key];
    if (fieldRef !== undefined) value = external['Pod/self']?.[fieldRef.fieldPath];
    if (value === undefined) throw new Error(`env ${entry.name}: no value`);
    // Later entries win, as with the kubelet.
    env[entry.name] = value;
  }

  const files = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume === undefined) throw new Error(`volumeMount ${mount.name}: no such volume`);
    let data: Record<string, string>;
    let items: { key: string; path: string }[] | undefined;
    if (volume.configMap !== undefined) {
      data = dataOf(objects, 'ConfigMap', volume.configMap.name, external);
      items = volume.configMap.items;
    } else if (volume.secret !== undefined) {
      data = dataOf(objects, 'Secret', volume.secret.secretName, external);
      items = volume.secret.items;
    } else {
      continue;
    }
    const entries = items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of entries) {
      const text = data[key];
      if (text === undefined) throw new Error(`volume ${volume.name}: key ${key} missing`);
      files.set(`${mount.mountPath}/${path}`, text);
    }
  }
  return { env, files };
}
