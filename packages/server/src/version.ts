import { readFileSync } from 'node:fs';

/**
 * This package's version from its `package.json` (one directory above both
 * `src/` and `dist/`); `0.0.0` if it cannot be read.
 */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
      return parsed.version;
    }
  } catch {
    // fall through
  }
  return '0.0.0';
}
