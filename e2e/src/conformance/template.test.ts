import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { manifestObjects, podNamesOf } from './cleanup.js';
import { readRunnerConfig } from './runner.js';
import { jinjaToJson, listTemplates, newRunId, prepareTemplate, renderTemplate, splitRendered, titleOf, type TemplateValues } from './template.js';

// The real templates, read where the project keeps its shared data.
const TEMPLATES_DIR = fileURLToPath(new URL('../../../../shared/conformance/vk-test-set/templates/', import.meta.url));
const CONFIG_PATH = fileURLToPath(new URL('../../../../shared/conformance/vk-test-set/vktest_config.example.yaml', import.meta.url));

const values: TemplateValues = {
  uuid: 'abcd1234',
  namespace: 'interlink',
  annotations: { 'slurm-job.vk.io/flags': '--job-name=x' },
  tolerations: [{ key: 'virtual-node.interlink/no-schedule', operator: 'Exists', effect: 'NoSchedule' }],
  target_node: 'virtual-kubelet',
};

describe('renderTemplate', () => {
  it('renders every template of the vk-test-set into manifests and a validation document', async () => {
    const config = await readRunnerConfig(CONFIG_PATH);
    const templates = await listTemplates(TEMPLATES_DIR);
    expect(templates.length).toBeGreaterThanOrEqual(19);
    for (const template of templates) {
      const rendered = prepareTemplate(template.source, {
        uuid: newRunId(),
        namespace: config.namespace,
        annotations: config.annotations,
        tolerations: config.tolerations,
        target_node: 'virtual-kubelet',
      });
      const objects = manifestObjects(rendered.manifests);
      expect({ template: template.name, objects: objects.length > 0 }).toEqual({ template: template.name, objects: true });
      expect(objects.every((o) => o.namespace === config.namespace)).toBe(true);
      expect(rendered.validation.timeout_seconds).toBeGreaterThan(0);
      expect(rendered.validation.check_pods.length).toBeGreaterThan(0);
      expect(template.title).not.toBe('');
      // Every pod a check names is one the manifests create (or a Job's pods).
      const made = podNamesOf(objects).map((p) => p.name);
      for (const check of [...rendered.validation.check_pods, ...rendered.validation.check_logs]) {
        expect({ template: template.name, check: check.name, made: made.includes(check.name) }).toEqual({
          template: template.name,
          check: check.name,
          made: true,
        });
      }
    }
  });

  it('keeps the name of every Job whole in its pods with the run ids it makes (the API server cuts a generateName base at 58)', async () => {
    for (const template of await listTemplates(TEMPLATES_DIR)) {
      const { manifests } = prepareTemplate(template.source, { ...values, uuid: newRunId() });
      for (const job of manifestObjects(manifests).filter((o) => o.kind === 'Job')) {
        expect(`${job.name}-`.length).toBeLessThanOrEqual(58);
      }
    }
  });

  it('passes the tolerations and annotations as JSON flow values and pins the pod to the target node', async () => {
    const [hello] = await listTemplates(TEMPLATES_DIR);
    const text = renderTemplate(hello?.source ?? '', values);
    expect(text).toContain('name: hello-world-abcd1234');
    expect(text).toContain('annotations: {"slurm-job.vk.io/flags": "--job-name=x"}');
    expect(text).toContain('tolerations: [{"effect": "NoSchedule", "key": "virtual-node.interlink/no-schedule", "operator": "Exists"}]');
    expect(text).toContain('kubernetes.io/hostname: virtual-kubelet');
  });

  it('supports {% raw %} and refuses a variable it was not given', () => {
    expect(renderTemplate('a {% raw %}{{ uuid }}{% endraw %} {{ uuid }}', values)).toBe('a {{ uuid }} abcd1234');
    expect(() => renderTemplate('{{ nope }}', values)).toThrow(/undefined|null/);
  });
});

describe('jinjaToJson', () => {
  it.each([
    [{ b: 1, a: 'x' }, '{"a": "x", "b": 1}'],
    [[1, 'two', null, true], '[1, "two", null, true]'],
    ["it's <b>&", '"it\\u0027s \\u003cb\\u003e\\u0026"'],
    ['ò🤩', '"\\u00f2\\ud83e\\udd29"'],
    [{ nested: { z: [], y: {} } }, '{"nested": {"y": {}, "z": []}}'],
  ])('writes %j as Jinja2 does: %s', (value, json) => {
    expect(jinjaToJson(value)).toBe(json);
  });
});

describe('splitRendered', () => {
  it('splits at the first line matching #+ *validation, in any case', () => {
    expect(splitRendered('a: 1\n#### Validation\nt: 2')).toEqual({ manifests: 'a: 1', validation: '#### Validation\nt: 2' });
    expect(splitRendered('a: 1\n# VALIDATION\nt: 2\n# validation\n')).toEqual({ manifests: 'a: 1', validation: '# VALIDATION\nt: 2\n# validation\n' });
  });

  it('leaves a template without validation whole', () => {
    expect(splitRendered('a: 1\n####\n')).toEqual({ manifests: 'a: 1\n####\n', validation: undefined });
  });
});

describe('titleOf', () => {
  it('takes the first ## line', () => {
    expect(titleOf('## Hello world\n##\n## More\n')).toBe('Hello world');
    expect(titleOf('# not this\n##\n##   Spaced  \n')).toBe('Spaced');
    expect(titleOf('apiVersion: v1\n')).toBe('');
  });
});

describe('newRunId', () => {
  it('makes 8 hex digits, new each time', () => {
    const a = newRunId();
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(newRunId()).not.toBe(a);
  });
});
