import { describe, expect, it } from '@jest/globals';
import { manifestObjects, podNamesOf, runCleanConfigs, shouldClean } from './cleanup.js';
import { NETWORK_TEMPLATES, planTemplates, runSuite, type SuiteSettings } from './runner.js';
import type { TemplateFile } from './template.js';
import type { CleanConfig } from './validation.js';
import { FakeClock, FakeCluster } from './__tests__/fake-cluster.js';

const NS = 'conf';

function template(name: string, source: string): TemplateFile {
  return { id: /^\d+/.exec(name)?.[0] ?? name, name, path: `/t/${name}.yaml`, source, title: `Title of ${name}` };
}

const POD_TEMPLATE = template(
  '000-pod',
  `## A pod
apiVersion: v1
kind: Pod
metadata:
  name: p-{{ uuid }}
  namespace: {{ namespace }}
spec:
  nodeSelector: {kubernetes.io/hostname: {{ target_node }}}
  tolerations: {{ tolerations | tojson }}
  containers: [{name: c, image: busybox}]
# VALIDATION
timeout_seconds: 5
check_pods:
  - name: p-{{ uuid }}
    namespace: {{ namespace }}
check_logs:
  - {name: p-{{ uuid }}, namespace: {{ namespace }}, container: c, regex: ok}
clean_configs:
  - {type: pod, name: p-{{ uuid }}, namespace: {{ namespace }}, condition: onSuccess}
  - {type: config_map, name: cm-{{ uuid }}, namespace: {{ namespace }}, condition: onFailure}
`,
);

const JOB_TEMPLATE = template(
  '110-job',
  `apiVersion: batch/v1
kind: Job
metadata:
  name: job-{{ uuid }}
  namespace: {{ namespace }}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
# VALIDATION
timeout_seconds: 5
check_pods:
  - {name: job-{{ uuid }}-, namespace: {{ namespace }}, status: Failed}
clean_configs:
  - {type: pod, name: job-{{ uuid }}-, namespace: {{ namespace }}, condition: onSuccess}
`,
);

function settings(clock: FakeClock, ids: string[]): SuiteSettings {
  return {
    values: { namespace: NS, annotations: {}, tolerations: [{ key: 'virtual-node.interlink/no-schedule' }], target_node: 'vk' },
    timeoutMultiplier: 1,
    clock,
    newId: () => ids.shift() ?? 'zzzzzzzz',
    sweepTimeoutMs: 10_000,
  };
}

describe('shouldClean', () => {
  it.each([
    ['always', true, true],
    ['always', false, true],
    ['never', true, false],
    ['never', false, false],
    ['onSuccess', true, true],
    ['onSuccess', false, false],
    ['onFailure', true, false],
    ['onFailure', false, true],
  ] as const)('%s after success=%s: %s', (condition, succeeded, expected) => {
    expect(shouldClean(condition, succeeded)).toBe(expected);
  });
});

describe('runCleanConfigs', () => {
  it('deletes each kind of object by its name, and every pod of a name prefix', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'job-1-aaaaa', { phase: 'Failed' });
    cluster.setPod(NS, 'job-1-bbbbb', { phase: 'Failed' });
    cluster.setPod(NS, 'job-10-ccccc', { phase: 'Failed' });
    const configs: CleanConfig[] = [
      { type: 'pod', name: 'job-1-', namespace: NS, condition: 'always' },
      { type: 'secret', name: 's', namespace: NS, condition: 'always' },
      { type: 'service', name: 'svc', namespace: NS, condition: 'always' },
      { type: 'config_map', name: 'cm', namespace: NS, condition: 'never' },
      { type: 'namespace', name: 'ns2', namespace: 'ns2', condition: 'onSuccess' },
    ];
    expect(await runCleanConfigs(configs, true, cluster)).toEqual([]);
    expect(cluster.deleted).toEqual([`pod ${NS}/job-1-aaaaa`, `pod ${NS}/job-1-bbbbb`, `secret ${NS}/s`, `service ${NS}/svc`, 'namespace ns2/ns2']);
  });

  it('reports a deletion that failed and goes on', async () => {
    const cluster = new FakeCluster();
    cluster.deleteObject = (type, namespace, name) => (name === 'a' ? Promise.reject(new Error('403 forbidden')) : FakeCluster.prototype.deleteObject.call(cluster, type, namespace, name));
    const problems = await runCleanConfigs(
      [
        { type: 'secret', name: 'a', namespace: NS, condition: 'always' },
        { type: 'secret', name: 'b', namespace: NS, condition: 'always' },
      ],
      false,
      cluster,
    );
    expect(problems).toEqual([`clean-up of secret ${NS}/a: 403 forbidden`]);
    expect(cluster.deleted).toEqual([`secret ${NS}/b`]);
  });
});

describe('manifestObjects', () => {
  it('lists the objects of a multi-document manifest, and the pods they bring (a Job: its name prefix)', () => {
    const objects = manifestObjects('---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\n---\n# only a comment\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\n');
    expect(objects).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'n' },
      { apiVersion: 'batch/v1', kind: 'Job', name: 'j', namespace: 'n' },
    ]);
    expect(podNamesOf(objects)).toEqual([
      { namespace: 'n', name: 'a' },
      { namespace: 'n', name: 'j-' },
    ]);
  });
});

describe('planTemplates', () => {
  const files = ['000-a', '050-limits', '060-init', '065-multi', '070-rclone', '110-b'].map((n) => template(n, ''));

  it('skips the four templates that need the internet, saying why', () => {
    const plan = planTemplates(files);
    expect(plan.map((p) => [p.file.id, p.skip])).toEqual([
      ['000', undefined],
      ['050', NETWORK_TEMPLATES['050']],
      ['060', NETWORK_TEMPLATES['060']],
      ['065', NETWORK_TEMPLATES['065']],
      ['070', NETWORK_TEMPLATES['070']],
      ['110', undefined],
    ]);
  });

  it('runs only those named (by number or name), a network one too when named', () => {
    expect(planTemplates(files, ['110-b', '050']).map((p) => [p.file.id, p.skip])).toEqual([
      ['050', undefined],
      ['110', undefined],
    ]);
  });

  it('skips those excluded, and refuses a name that is no template', () => {
    expect(planTemplates(files, undefined, ['000'])[0]?.skip).toBe('excluded on the command line');
    expect(() => planTemplates(files, ['999'])).toThrow(/no template 999/);
  });
});

describe('runSuite', () => {
  it('creates the namespace, renders with a fresh id each, checks, cleans up by condition, then sweeps', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    let made = 0;
    cluster.onRead = () => {
      // The pod of the first run comes up; the Job's pods of the second fail after 2 s.
      if (made === 0 && cluster.created.length === 1) {
        made = 1;
        cluster.setPod(NS, 'p-aaaaaaaa', { phase: 'Succeeded', logs: { c: 'ok' } });
      }
      if (made === 1 && cluster.created.length === 2 && clock.t > 2000) {
        made = 2;
        cluster.setPod(NS, 'job-bbbbbbbb-x1x1x', { phase: 'Failed' });
        cluster.setPod(NS, 'job-bbbbbbbb-y2y2y', { phase: 'Failed' });
      }
    };
    const results = await runSuite([{ file: POD_TEMPLATE, skip: undefined }, { file: JOB_TEMPLATE, skip: undefined }], cluster, settings(clock, ['aaaaaaaa', 'bbbbbbbb']));
    expect(results.map((r) => [r.template, r.result, r.title])).toEqual([
      ['000-pod', 'passed', 'Title of 000-pod'],
      ['110-job', 'passed', 'Title of 110-job'],
    ]);
    expect(results[0]?.detail).toBe('1 pod and 1 log checks passed (run aaaaaaaa)');
    expect(results[1]?.seconds).toBe(3);
    expect(cluster.created[0]).toContain('name: p-aaaaaaaa\n  namespace: conf');
    expect(cluster.created[0]).toContain('hostname: vk');
    expect(cluster.created[0]).not.toContain('VALIDATION');
    expect(cluster.created[1]).toContain('name: job-bbbbbbbb');
    // onSuccess: the pod, and each pod of the Job's prefix; onFailure: not the ConfigMap.
    expect(cluster.deleted).toEqual([
      `pod ${NS}/p-aaaaaaaa`,
      `pod ${NS}/job-bbbbbbbb-x1x1x`,
      `pod ${NS}/job-bbbbbbbb-y2y2y`,
      `namespace ${NS}/${NS}`,
    ]);
    // The sweep deletes both manifests (the Job with its pods) and the namespace it made.
    expect(cluster.deletedManifests).toEqual(cluster.created);
    expect(cluster.namespaces.has(NS)).toBe(false);
  });

  it('keeps a namespace that was there, and what a failed template keeps until the sweep', async () => {
    const cluster = new FakeCluster();
    cluster.namespaces.add(NS);
    const clock = new FakeClock();
    cluster.onRead = () => {
      if (cluster.created.length === 1 && cluster.deletedManifests.length === 0) cluster.setPod(NS, 'p-aaaaaaaa', { phase: 'Failed', logs: { c: 'boom' } });
    };
    const [result] = await runSuite([{ file: POD_TEMPLATE, skip: undefined }], cluster, settings(clock, ['aaaaaaaa']));
    expect(result?.result).toBe('failed');
    expect(result?.detail).toBe(`pod ${NS}/p-aaaaaaaa Failed, expected Succeeded (no container status) (run aaaaaaaa)`);
    expect(cluster.deleted).toEqual([`config_map ${NS}/cm-aaaaaaaa`]);
    expect(cluster.deletedManifests).toHaveLength(1);
    expect(cluster.namespaces.has(NS)).toBe(true);
  });

  it('reports skipped templates with their reason and a creation error as a failure, and still sweeps', async () => {
    const cluster = new FakeCluster();
    cluster.createError = new Error('exit 1: pods "p" is forbidden');
    const results = await runSuite(
      [
        { file: template('050-limits', ''), skip: 'needs the internet' },
        { file: POD_TEMPLATE, skip: undefined },
      ],
      cluster,
      settings(new FakeClock(), ['aaaaaaaa']),
    );
    expect(results.map((r) => [r.result, r.detail])).toEqual([
      ['skipped', 'needs the internet'],
      ['failed', 'create: exit 1: pods "p" is forbidden (run aaaaaaaa)'],
    ]);
    expect(cluster.deletedManifests).toHaveLength(1);
  });

  it('refuses to run without the target node', async () => {
    const cluster = new FakeCluster();
    cluster.nodes.clear();
    await expect(runSuite([], cluster, settings(new FakeClock(), []))).rejects.toThrow('node vk does not exist');
  });

  it('fails a template that does not render', async () => {
    const [result] = await runSuite([{ file: template('001-bad', '{{ nope }}'), skip: undefined }], new FakeCluster(), settings(new FakeClock(), ['aaaaaaaa']));
    expect(result?.result).toBe('failed');
    expect(result?.detail).toMatch(/^render: /);
  });
});
