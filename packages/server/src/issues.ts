import type { z } from 'zod';

/**
 * `path: message` for each issue (at most five), joined with `; `; the path
 * in JavaScript notation, e.g. `pod.metadata.uid` or `[0].metadata.name`.
 * An issue about the value as a whole is prefixed with `rootName` if given.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], rootName?: string): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = formatPath(issue.path, rootName);
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * `['pod', 'metadata', 'uid']` → `pod.metadata.uid`; `[0, 'name']` →
 * `[0].name`; the empty path → `rootName` (or the empty string).
 */
export function formatPath(path: readonly PropertyKey[], rootName?: string): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? (rootName ?? '') : out;
}
