import { z } from 'zod';

/**
 * The Content-Security-Policy of the docs page: it loads nothing at all (no
 * scripts, fonts or styles from elsewhere), so it works offline.
 */
export const DOCS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const MediaSchema = z.record(z.string(), z.looseObject({ schema: z.unknown().optional() }));
const OperationSchema = z.looseObject({
  operationId: z.string().optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  requestBody: z.looseObject({ required: z.boolean().optional(), content: MediaSchema.optional() }).optional(),
  responses: z.record(z.string(), z.looseObject({ description: z.string().optional(), content: MediaSchema.optional() })).optional(),
});
const DocumentSchema = z.looseObject({
  info: z.looseObject({ title: z.string(), version: z.string(), description: z.string().optional() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z.looseObject({ schemas: z.record(z.string(), z.unknown()).optional() }).optional(),
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
const REF_PREFIX = '#/components/schemas/';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const anchor = (name: string) => `schema-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** A short, linked description of a schema: `PodStatus`, `array of PodStatus`, `string`. */
function schemaLabel(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'any';
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string' && s.$ref.startsWith(REF_PREFIX)) {
    const name = s.$ref.slice(REF_PREFIX.length);
    return `<a href="#${anchor(name)}">${escape(name)}</a>`;
  }
  if (Array.isArray(s.oneOf)) return s.oneOf.map(schemaLabel).join(' or ');
  if (s.type === 'array') return `array of ${schemaLabel(s.items)}`;
  if (typeof s.type === 'string') return escape(s.type);
  return 'JSON';
}

function contentList(content: z.output<typeof MediaSchema> | undefined): string {
  if (content === undefined) return '<em>no body</em>';
  return Object.entries(content)
    .map(([type, media]) => `<code>${escape(type)}</code> ${schemaLabel(media.schema)}`)
    .join('<br>');
}

function renderOperation(path: string, method: string, op: z.output<typeof OperationSchema>): string {
  const request = op.requestBody
    ? `<p><strong>Request body</strong>${op.requestBody.required === true ? '' : ' (optional)'}: ${contentList(op.requestBody.content)}</p>`
    : '';
  const responses = Object.entries(op.responses ?? {})
    .map(
      ([status, r]) =>
        `<tr><td><code>${escape(status)}</code></td><td>${escape(r.description ?? '')}</td><td>${contentList(r.content)}</td></tr>`,
    )
    .join('');
  return `<section class="op" id="op-${escape(op.operationId ?? `${method}-${path}`)}">
<h3><span class="method ${escape(method)}">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code></h3>
${op.summary === undefined ? '' : `<p>${escape(op.summary)}</p>`}
${op.description === undefined ? '' : `<p>${escape(op.description)}</p>`}
${request}
<table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>${responses}</tbody></table>
</section>`;
}

/** Pretty JSON of a schema with every `$ref` turned into a link to that schema. */
function renderSchema(schema: unknown): string {
  const text = escape(JSON.stringify(schema, null, 2));
  return text.replace(/&quot;#\/components\/schemas\/([^&]+)&quot;/g, (_all, name: string) => {
    return `&quot;<a href="#${anchor(name)}">#/components/schemas/${name}</a>&quot;`;
  });
}

/**
 * A self-contained HTML page documenting the API from its OpenAPI document:
 * every operation with its request and responses, then every schema. No
 * script and nothing fetched from anywhere.
 */
export function renderDocsPage(document: Record<string, unknown>, openApiPath = '/openapi.json'): string {
  const doc = DocumentSchema.parse(document);
  const operations: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const parsed = OperationSchema.safeParse(item[method]);
      if (item[method] !== undefined && parsed.success) operations.push(renderOperation(path, method, parsed.data));
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(
      ([name, schema]) =>
        `<details id="${anchor(name)}"><summary><code>${escape(name)}</code></summary><pre>${renderSchema(schema)}</pre></details>`,
    )
    .join('\n');
  const title = `${doc.info.title} ${doc.info.version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem; color: #1b1f24; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f6f8fa; padding: .75rem; overflow: auto; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; }
.op { border: 1px solid #d0d7de; border-radius: 6px; padding: 0 1rem .75rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 4px; color: #fff; font-size: 13px; padding: .1rem .4rem; }
.get { background: #0969da; } .post { background: #1a7f37; } .delete { background: #cf222e; } .put, .patch { background: #9a6700; }
details { margin: .4rem 0; } summary { cursor: pointer; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
${doc.info.description === undefined ? '' : `<p>${escape(doc.info.description)}</p>`}
<p>Machine-readable: <a href="${escape(openApiPath)}">${escape(openApiPath)}</a> (OpenAPI 3.1).</p>
<h2>Operations</h2>
${operations.join('\n')}
<h2>Schemas</h2>
${schemas}
</body>
</html>
`;
}
