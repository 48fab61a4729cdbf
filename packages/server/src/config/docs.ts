import { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE, configKeys, ignoredReferenceKeys, type ConfigKey } from './keys.js';

/** The marker lines between which the README holds the generated table. */
export const CONFIG_TABLE_MARKERS = {
  start: '<!-- config-table:start -->',
  end: '<!-- config-table:end -->',
} as const;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);
const defaultCell = (k: ConfigKey) => {
  const text = k.default ?? k.documentedDefault;
  return text === undefined ? '' : code(text);
};

/**
 * Renders the configuration table for the README from {@link configKeys}, so
 * that the documentation cannot drift from what the server reads. The first
 * line says where the ini file is; the last lists the reference keys that are
 * accepted and ignored.
 */
export function renderConfigTable(keys: readonly ConfigKey[] = configKeys): string {
  const lines = [
    `Read once at start-up: defaults < ini file (\`${CONFIG_FILE_ENV}\`, default \`${DEFAULT_CONFIG_FILE}\`) < environment variable. An empty value means "unset" (the default applies) unless the description says otherwise.`,
    '',
    '| key | environment variable | default | description |',
    '|---|---|---|---|',
    ...keys.map(
      (k) =>
        `| ${code(k.key)} | ${code(k.env)} | ${defaultCell(k)} | ${cell(k.description)} |`,
    ),
    '',
    `Accepted and ignored (reference plugin keys with no meaning here): ${ignoredReferenceKeys.map(code).join(', ')}.`,
  ];
  return lines.join('\n');
}

/**
 * The text between the README's config-table markers (trimmed), or
 * `undefined` when the markers are absent.
 */
export function extractConfigTable(readme: string): string | undefined {
  const start = readme.indexOf(CONFIG_TABLE_MARKERS.start);
  const end = readme.indexOf(CONFIG_TABLE_MARKERS.end);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + CONFIG_TABLE_MARKERS.start.length, end).trim();
}

/** The README with the text between its markers replaced by {@link renderConfigTable}'s; unchanged without markers. */
export function replaceConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_MARKERS.start);
  const end = readme.indexOf(CONFIG_TABLE_MARKERS.end);
  if (start < 0 || end < start) return readme;
  return `${readme.slice(0, start + CONFIG_TABLE_MARKERS.start.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}
