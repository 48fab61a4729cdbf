import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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

/**
 * The version of the `@interlink-k8s/tunnel` package this server was built
 * with: the tag of the tunnel image its bastions run by default. Falls back
 * to this package's own version (the two are released together) if the
 * tunnel package cannot be read.
 */
export function tunnelVersion(): string {
  try {
    const path = createRequire(import.meta.url).resolve('@interlink-k8s/tunnel/package.json');
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
      return parsed.version;
    }
  } catch {
    // fall through
  }
  return packageVersion();
}
