import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CONFIG_TABLE_MARKERS, extractConfigTable, renderConfigTable, replaceConfigTable } from './docs.js';
import { configKeys } from './keys.js';

const README = new URL('../../../../README.md', import.meta.url);

describe('renderConfigTable', () => {
  it('has one row per key with its environment variable and default', () => {
    const table = renderConfigTable();
    for (const key of configKeys) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${key.key}\` |`));
      expect(row).toBeDefined();
      expect(row).toContain(`\`${key.env}\``);
      if (key.default !== undefined) expect(row).toContain(`\`${key.default}\``);
    }
  });

  it('escapes pipes inside cells', () => {
    const table = renderConfigTable([{ ...configKeys[0], description: 'a | b' }]);
    expect(table).toContain('a \\| b');
  });
});

describe('replaceConfigTable', () => {
  it('replaces what is between the markers and nothing else', () => {
    const readme = `# x\n\n${CONFIG_TABLE_MARKERS.start}\nold\n${CONFIG_TABLE_MARKERS.end}\n\nrest\n`;
    const updated = replaceConfigTable(readme);
    expect(updated.startsWith('# x\n\n')).toBe(true);
    expect(updated.endsWith(`${CONFIG_TABLE_MARKERS.end}\n\nrest\n`)).toBe(true);
    expect(extractConfigTable(updated)).toBe(renderConfigTable());
  });

  it('leaves a README without markers unchanged', () => {
    expect(replaceConfigTable('# x\n')).toBe('# x\n');
  });
});

describe('README configuration table', () => {
  it('is exactly renderConfigTable() (run `pnpm run docs` after changing a key)', () => {
    expect(existsSync(README)).toBe(true);
    expect(extractConfigTable(readFileSync(README, 'utf8'))).toBe(renderConfigTable());
  });
});
