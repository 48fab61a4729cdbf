/** Labels a client attaches to its forwards through its SSH user name (see {@link parseLabels}). */
export type Labels = Readonly<Record<string, string>>;

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;

/**
 * Labels carried in an SSH user name: `key=value` pairs separated by commas,
 * values percent-encoded (`pod=web,namespace=shop`). Commas and `=` are
 * chosen because OpenSSH's `ssh` refuses user names with shell
 * metacharacters such as `&` or `;`. A user name without `=` carries no
 * labels (`{}`); so does one that is not well-formed (a key outside
 * `[A-Za-z0-9._/-]`, a repeated key, bad percent-encoding), since a user
 * name is the client's claim and never worth failing a login over.
 */
export function parseLabels(username: string): Labels {
  if (!username.includes('=')) return {};
  const labels: Record<string, string> = {};
  for (const item of username.split(',')) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq);
    if (eq < 0 || !LABEL_KEY.test(key) || Object.hasOwn(labels, key)) return {};
    try {
      labels[key] = decodeURIComponent(item.slice(eq + 1));
    } catch {
      return {};
    }
  }
  return Object.freeze(labels);
}

/** The user name that carries `labels` (the inverse of {@link parseLabels}); throws `RangeError` for a bad key. */
export function formatLabels(labels: Labels): string {
  return Object.entries(labels)
    .map(([key, value]) => {
      if (!LABEL_KEY.test(key)) throw new RangeError(`label key ${JSON.stringify(key)} must match ${LABEL_KEY.source}`);
      return `${key}=${encodeURIComponent(value)}`;
    })
    .join(',');
}
