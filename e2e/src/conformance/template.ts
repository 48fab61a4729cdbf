import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { parseValidation, type ValidationProcedure } from './validation.js';

/** One template file of the vk-test-set. */
export interface TemplateFile {
  /** The number that starts the file name, e.g. `010`. */
  id: string;
  /** The file name without `.yaml`, e.g. `010-simple-python`. */
  name: string;
  /** Absolute path. */
  path: string;
  /** The Jinja2 source. */
  source: string;
  /** The text of its first `## ` comment line, e.g. `Simple Python`. */
  title: string;
}

/** The variables a template is rendered with (the upstream runner's names). */
export interface TemplateValues {
  uuid: string;
  namespace: string;
  annotations: Readonly<Record<string, string>>;
  tolerations: readonly unknown[];
  target_node: string;
}

/** A rendered template: the manifests to create and how to validate them. */
export interface RenderedTemplate {
  /** The Kubernetes manifests (multi-document YAML), everything above the validation header. */
  manifests: string;
  /** The validation document, parsed; the upstream defaults when the template has none. */
  validation: ValidationProcedure;
}

/**
 * The templates of a directory (`*.yaml`), sorted by name as the upstream
 * runner sorts them.
 */
export async function listTemplates(dir: string): Promise<TemplateFile[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(async (file) => {
      const path = join(dir, file);
      const source = await readFile(path, 'utf8');
      const name = file.slice(0, -'.yaml'.length);
      return { id: /^\d+/.exec(name)?.[0] ?? name, name, path, source, title: titleOf(source) };
    }),
  );
}

/** The text of the first `## ` line of a template (its title by convention), or `''`. */
export function titleOf(source: string): string {
  for (const line of source.split('\n')) {
    const m = /^##\s+(\S.*)$/.exec(line.trimEnd());
    if (m?.[1] !== undefined) return m[1];
  }
  return '';
}

/**
 * A fresh run id: 8 hex digits. The upstream runner passes a whole
 * `uuid.uuid4()` (36 characters); Job pods of such names do not keep the Job's
 * name whole (the API server cuts a `generateName` base to 58 characters), so
 * a name-prefix check of template 110 could never match. Eight digits keep
 * every name of every template well under that limit.
 */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Renders a template as Jinja2 would with the upstream runner's environment:
 * no autoescaping, Jinja's `tojson`; a variable the template uses but
 * `values` lacks is an error here (Jinja would print nothing).
 */
export function renderTemplate(source: string, values: TemplateValues): string {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  env.addFilter('tojson', jinjaToJson);
  return env.renderString(source, { ...values });
}

/**
 * Splits a rendered template where the upstream runner does: at the first
 * line matching `#+ *validation` (any case). Without such a line the whole
 * text is manifests and `validation` is `undefined`.
 */
export function splitRendered(text: string): { manifests: string; validation: string | undefined } {
  const lines = text.split('\n');
  const header = lines.findIndex((line) => /#+ *validation/i.test(line));
  if (header < 0) return { manifests: text, validation: undefined };
  return { manifests: lines.slice(0, header).join('\n'), validation: lines.slice(header).join('\n') };
}

/** Renders a template and parses its validation document; throws naming what is wrong. */
export function prepareTemplate(source: string, values: TemplateValues): RenderedTemplate {
  const { manifests, validation } = splitRendered(renderTemplate(source, values));
  return { manifests, validation: parseValidation(validation) };
}

/**
 * Jinja2's `tojson`: `json.dumps` with sorted keys, `", "` and `": "` as
 * separators and non-ASCII escaped, then `<`, `>`, `&` and `'` escaped as
 * `\u00XX` (Jinja's HTML-safe form). A JSON value is YAML, hence its use in
 * the manifests (`annotations: {{ annotations | tojson }}`).
 */
export function jinjaToJson(value: unknown): string {
  return pyJson(value).replace(/[<>&']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return asciiOnly(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${asciiOnly(JSON.stringify(k))}: ${pyJson(v)}`).join(', ')}}`;
  }
  throw new TypeError(`tojson: cannot serialize a ${typeof value}`);
}

// Python's ensure_ascii: every UTF-16 unit above 0x7f as \uXXXX (astral
// characters become their surrogate pair, as Python writes them).
function asciiOnly(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
