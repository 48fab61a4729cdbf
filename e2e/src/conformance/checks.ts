import type { CheckLogs, CheckPod, ValidationProcedure } from './validation.js';

/** A container of a pod, as the checks and the failure reports see it. */
export interface ContainerView {
  name: string;
  /** Whether it is an init container. */
  init: boolean;
  /** `running`, `waiting: <reason>` or `terminated: <exit code> (<reason>)`; `unknown` without a status. */
  state: string;
}

/** A pod, as the checks see it. */
export interface PodView {
  name: string;
  /** `status.phase`; `undefined` before the API server has one. */
  phase: string | undefined;
  containers: ContainerView[];
}

/** The reads the checks make on the cluster whose pods they judge (the local cluster, through its API server). */
export interface ClusterReader {
  /** The pod, or `undefined` when it does not exist. */
  getPod(namespace: string, name: string): Promise<PodView | undefined>;
  /** Every pod of a namespace. */
  listPods(namespace: string): Promise<PodView[]>;
  /** A container's log (`GET .../pods/{name}/log?container=...`); throws when the API server refuses. */
  readLog(namespace: string, name: string, container: string | undefined): Promise<string>;
}

/** The outcome of one check, or of one round of every check. */
export type CheckOutcome = { kind: 'pass' } | { kind: 'retry'; reason: string } | { kind: 'fail'; reason: string };

/** What a validation came to. */
export type ValidationOutcome = { passed: true; attempts: number } | { passed: false; attempts: number; reason: string };

/** Time, injected so that tests of timeouts do not wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Whether a `check_pods`/`check_logs` name stands for the pods starting with it (Job pods: `<job>-<random>`). */
export function isNamePrefix(name: string): boolean {
  // A pod name cannot end in `-` (DNS subdomain), so the two readings never collide.
  return name.endsWith('-');
}

/** The pods a check names: the one pod of that name, or every pod whose name starts with a prefix. */
export async function podsNamed(reader: ClusterReader, namespace: string, name: string): Promise<PodView[]> {
  if (isNamePrefix(name)) {
    const pods = await reader.listPods(namespace);
    return pods.filter((pod) => pod.name.startsWith(name)).sort((a, b) => a.name.localeCompare(b.name));
  }
  const pod = await reader.getPod(namespace, name);
  return pod === undefined ? [] : [pod];
}

/**
 * `check_pods[]`: passes when every pod named is in phase `status`. A pod
 * `Failed` when that is not what is expected fails at once; anything else
 * (no pod yet, another phase) is retried.
 */
export async function checkPod(reader: ClusterReader, check: CheckPod): Promise<CheckOutcome> {
  const pods = await podsNamed(reader, check.namespace, check.name);
  const what = `${check.namespace}/${check.name}${isNamePrefix(check.name) ? '*' : ''}`;
  if (pods.length === 0) return { kind: 'retry', reason: `pod ${what} not found` };
  const failed = pods.find((pod) => pod.phase === 'Failed');
  if (check.status !== 'Failed' && failed !== undefined) {
    return { kind: 'fail', reason: `pod ${check.namespace}/${failed.name} Failed, expected ${check.status} (${describeContainers(failed)})` };
  }
  const other = pods.find((pod) => pod.phase !== check.status);
  if (other !== undefined) {
    return {
      kind: 'retry',
      reason: `pod ${check.namespace}/${other.name} is ${other.phase ?? 'without phase'}, expected ${check.status} (${describeContainers(other)})`,
    };
  }
  return { kind: 'pass' };
}

/**
 * `check_logs[]`: the regex is applied to the log with Python's `re.findall`
 * semantics (every non-overlapping match; with capture groups, the groups);
 * for a name prefix, to the log of each pod named, matches added up.
 * Operators: `Exists` (one match at least), `CountAtLeast` / `CountAtMost` /
 * `CountExactly` (the number of matches against `value`), `Is` (`value` among
 * the matches). Too many matches fail at once; too few, an unreadable log or
 * no pod yet are retried.
 */
export async function checkLogs(reader: ClusterReader, check: CheckLogs): Promise<CheckOutcome> {
  const pods = await podsNamed(reader, check.namespace, check.name);
  const where = `${check.namespace}/${check.name}${isNamePrefix(check.name) ? '*' : ''}${check.container == null ? '' : ` [${check.container}]`}`;
  if (pods.length === 0) return { kind: 'retry', reason: `log of ${where}: pod not found` };
  let regex: RegExp;
  try {
    regex = pythonRegex(check.regex);
  } catch (error) {
    return { kind: 'fail', reason: `log of ${where}: bad regex /${check.regex}/: ${error instanceof Error ? error.message : String(error)}` };
  }
  const matches: Match[] = [];
  const logs: string[] = [];
  for (const pod of pods) {
    let log: string;
    try {
      log = await reader.readLog(check.namespace, pod.name, check.container ?? undefined);
    } catch (error) {
      return { kind: 'retry', reason: `log of ${where}: ${error instanceof Error ? error.message : String(error)}` };
    }
    logs.push(log);
    matches.push(...findAll(regex, log));
  }
  const count = matches.length;
  const value = Number(check.value);
  const tail = (): string => lastLines(logs.join('\n'), 5);
  switch (check.operator) {
    case 'Exists':
      if (count === 0) return { kind: 'retry', reason: `log of ${where}: no match of /${check.regex}/; log ends: ${tail()}` };
      break;
    case 'CountAtLeast':
      if (count < value) return { kind: 'retry', reason: `log of ${where}: ${count} matches of /${check.regex}/, at least ${value} expected` };
      break;
    case 'CountAtMost':
      if (count > value) return { kind: 'fail', reason: `log of ${where}: ${count} matches of /${check.regex}/, at most ${value} expected` };
      break;
    case 'CountExactly':
      if (count < value) return { kind: 'retry', reason: `log of ${where}: ${count} matches of /${check.regex}/, ${value} expected` };
      if (count > value) return { kind: 'fail', reason: `log of ${where}: ${count} matches of /${check.regex}/, ${value} expected` };
      break;
    case 'Is':
      if (!matches.includes(String(check.value))) {
        return { kind: 'retry', reason: `log of ${where}: /${check.regex}/ gave ${JSON.stringify(matches)}, ${JSON.stringify(String(check.value))} expected` };
      }
      break;
  }
  return { kind: 'pass' };
}

/**
 * One round of every check, in the upstream order (all pod checks, then all
 * log checks), stopping at the first that does not pass.
 */
export async function checkOnce(reader: ClusterReader, procedure: ValidationProcedure): Promise<CheckOutcome> {
  for (const check of procedure.check_pods) {
    const outcome = await checkPod(reader, check);
    if (outcome.kind !== 'pass') return outcome;
  }
  for (const check of procedure.check_logs) {
    const outcome = await checkLogs(reader, check);
    if (outcome.kind !== 'pass') return outcome;
  }
  return { kind: 'pass' };
}

/**
 * Runs the checks of a validation document as the upstream runner does:
 * rounds of {@link checkOnce} one second apart until one passes, one fails,
 * or `timeout_seconds` × `timeoutMultiplier` have gone by since the first.
 * An error of the API server (other than a missing pod or an unreadable
 * log) is retried like a check that does not pass yet.
 */
export async function validate(
  reader: ClusterReader,
  procedure: ValidationProcedure,
  timeoutMultiplier: number,
  clock: Clock = systemClock,
): Promise<ValidationOutcome> {
  const start = clock.now();
  const timeoutMs = procedure.timeout_seconds * timeoutMultiplier * 1000;
  let attempts = 0;
  let last = 'no attempt within the timeout';
  while (clock.now() - start < timeoutMs) {
    attempts += 1;
    let outcome: CheckOutcome;
    try {
      outcome = await checkOnce(reader, procedure);
    } catch (error) {
      outcome = { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
    }
    if (outcome.kind === 'pass') return { passed: true, attempts };
    if (outcome.kind === 'fail') return { passed: false, attempts, reason: outcome.reason };
    last = outcome.reason;
    await clock.sleep(1000);
  }
  const limit = procedure.timeout_seconds * timeoutMultiplier;
  return { passed: false, attempts, reason: `not within ${limit} s (${procedure.timeout_seconds} s × ${timeoutMultiplier}): ${last}` };
}

/** A match as Python's `re.findall` gives it: the match, its one group, or the tuple of its groups. */
export type Match = string | string[];

/** Python's `re.findall(regex, text)`; `regex` must have the `g` flag. */
export function findAll(regex: RegExp, text: string): Match[] {
  const out: Match[] = [];
  for (const m of text.matchAll(regex)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    // An unmatched group is undefined at run time, whatever the type says; Python gives ''.
    else out.push(m.slice(1).map((g: string | undefined) => g ?? ''));
  }
  return out;
}

/**
 * A JavaScript RegExp (global) for a Python `re` pattern: the two syntaxes
 * agree on what the templates use; Python's named groups (`(?P<n>…)`,
 * `(?P=n)`) and leading global flags (`(?i)`, `(?m)`, `(?s)`) are translated.
 * Without the `u` flag, as Python accepts escapes such as `\:` that `u` refuses.
 */
export function pythonRegex(pattern: string): RegExp {
  let flags = 'g';
  let body = pattern;
  const leading = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (leading?.[1] !== undefined) {
    for (const f of leading[1]) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    body = body.slice(leading[0].length);
  }
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    if (c === '\\') {
      out += body.slice(i, i + 2);
      i += 1;
    } else if (body.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (body.startsWith('(?P=', i)) {
      const end = body.indexOf(')', i);
      if (end < 0) throw new SyntaxError(`unterminated (?P= in /${pattern}/`);
      out += `\\k<${body.slice(i + 4, end)}>`;
      i = end;
    } else {
      out += c;
    }
  }
  return new RegExp(out, flags);
}

/** The containers of a pod in one line, for failure reports. */
export function describeContainers(pod: PodView): string {
  if (pod.containers.length === 0) return 'no container status';
  return pod.containers.map((c) => `${c.init ? 'init ' : ''}${c.name}: ${c.state}`).join('; ');
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  const tail = lines.slice(-n).join(' ⏎ ');
  return tail === '' ? '(empty)' : JSON.stringify(tail.length > 300 ? `…${tail.slice(-300)}` : tail);
}
