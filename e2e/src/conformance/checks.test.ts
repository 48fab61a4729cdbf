import { describe, expect, it } from '@jest/globals';
import { checkLogs, checkPod, findAll, pythonRegex, validate } from './checks.js';
import { parseValidation, type CheckLogs, type LogOperator } from './validation.js';
import { FakeClock, FakeCluster } from './__tests__/fake-cluster.js';

const NS = 'interlink';

function logCheck(operator: LogOperator, regex: string, value?: string | number, name = 'p'): CheckLogs {
  return { name, namespace: NS, regex, operator, container: 'c', value };
}

function clusterWithLog(log: string): FakeCluster {
  const cluster = new FakeCluster();
  cluster.setPod(NS, 'p', { phase: 'Succeeded', logs: { c: log } });
  return cluster;
}

describe('checkPod', () => {
  it.each([
    ['Succeeded', 'Succeeded', 'pass'],
    ['Running', 'Running', 'pass'],
    ['Failed', 'Failed', 'pass'],
    ['Pending', 'Succeeded', 'retry'],
    ['Running', 'Succeeded', 'retry'],
    ['Succeeded', 'Running', 'retry'],
    [undefined, 'Succeeded', 'retry'],
    ['Failed', 'Succeeded', 'fail'],
    ['Failed', 'Running', 'fail'],
    ['Succeeded', 'Failed', 'retry'],
  ] as const)('a pod in phase %s, %s expected: %s', async (phase, status, kind) => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'p', { phase });
    expect((await checkPod(cluster, { name: 'p', namespace: NS, status })).kind).toBe(kind);
  });

  it('retries a pod that does not exist (yet)', async () => {
    const outcome = await checkPod(new FakeCluster(), { name: 'p', namespace: NS, status: 'Succeeded' });
    expect(outcome).toEqual({ kind: 'retry', reason: `pod ${NS}/p not found` });
  });

  it('reads a name ending in - as the prefix of Job pods: every one must be in the phase', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'job-a-1234-x7k2p', { phase: 'Failed' });
    cluster.setPod(NS, 'job-a-1234-q9w8e', { phase: 'Pending' });
    cluster.setPod(NS, 'job-ab-1234-zzzzz', { phase: 'Succeeded' });
    cluster.setPod('other', 'job-a-1234-aaaaa', { phase: 'Succeeded' });
    const check = { name: 'job-a-1234-', namespace: NS, status: 'Failed' } as const;
    expect((await checkPod(cluster, check)).kind).toBe('retry');
    cluster.setPod(NS, 'job-a-1234-q9w8e', { phase: 'Failed' });
    expect(await checkPod(cluster, check)).toEqual({ kind: 'pass' });
    expect((await checkPod(cluster, { name: 'job-zz-', namespace: NS, status: 'Failed' })).kind).toBe('retry');
  });

  it('fails at once when one of the prefixed pods Failed and Succeeded is expected', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'job-a-1-aaaaa', { phase: 'Succeeded' });
    cluster.setPod(NS, 'job-a-1-bbbbb', { phase: 'Failed' });
    expect((await checkPod(cluster, { name: 'job-a-1-', namespace: NS, status: 'Succeeded' })).kind).toBe('fail');
  });

  it('takes an exact name literally, not as a prefix', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'p-long', { phase: 'Succeeded' });
    expect((await checkPod(cluster, { name: 'p', namespace: NS, status: 'Succeeded' })).kind).toBe('retry');
  });
});

describe('checkLogs', () => {
  const log = 'hello world\nhello moon\nbye world\n';

  it.each([
    ['Exists', 'hello', undefined, 'pass'],
    ['Exists', 'absent', undefined, 'retry'],
    ['CountAtLeast', 'hello', 2, 'pass'],
    ['CountAtLeast', 'hello', 3, 'retry'],
    ['CountAtMost', 'hello', 2, 'pass'],
    ['CountAtMost', 'hello', 1, 'fail'],
    ['CountAtMost', 'absent', 0, 'pass'],
    ['CountExactly', 'world', 2, 'pass'],
    ['CountExactly', 'world', 3, 'retry'],
    ['CountExactly', 'world', 1, 'fail'],
    ['CountExactly', 'world', '2', 'pass'],
    ['Is', 'hello (\\w+)', 'moon', 'pass'],
    ['Is', 'hello (\\w+)', 'mars', 'retry'],
    ['Is', 'hello \\w+', 'hello world', 'pass'],
    ['Is', '(\\w+) (\\w+)', 'hello', 'retry'],
    ['Is', 'count (\\d)', 7, 'retry'],
  ] as const)('%s /%s/ value %s on the log: %s', async (operator, regex, value, kind) => {
    expect((await checkLogs(clusterWithLog(log), logCheck(operator, regex, value))).kind).toBe(kind);
  });

  it('compares Is with the string of a number value', async () => {
    expect((await checkLogs(clusterWithLog('count 7'), logCheck('Is', 'count (\\d)', 7))).kind).toBe('pass');
  });

  it('reads the container the check names', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'p', { phase: 'Running', logs: { c: 'nothing', d: 'found it', '': 'default' } });
    expect((await checkLogs(cluster, { ...logCheck('Exists', 'found'), container: 'd' })).kind).toBe('pass');
    expect((await checkLogs(cluster, { ...logCheck('Exists', 'default'), container: undefined })).kind).toBe('pass');
  });

  it('retries a log the API server will not give yet, and a pod not there', async () => {
    const cluster = clusterWithLog('hello');
    cluster.unreadable.add(`${NS}/p`);
    expect(await checkLogs(cluster, logCheck('Exists', 'hello'))).toEqual({
      kind: 'retry',
      reason: `log of ${NS}/p [c]: 400 container is waiting to start`,
    });
    expect((await checkLogs(new FakeCluster(), logCheck('Exists', 'hello'))).kind).toBe('retry');
  });

  it('adds up the matches in the logs of every pod of a prefix', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'job-r-1-aaaaa', { phase: 'Failed', logs: { c: 'Attempt started\n' } });
    cluster.setPod(NS, 'job-r-1-bbbbb', { phase: 'Failed', logs: { c: 'Attempt started\n' } });
    expect((await checkLogs(cluster, logCheck('CountExactly', 'Attempt started', 2, 'job-r-1-'))).kind).toBe('pass');
    expect((await checkLogs(cluster, logCheck('CountAtLeast', 'Attempt started', 3, 'job-r-1-'))).kind).toBe('retry');
  });

  it('fails at once on a regex that does not compile', async () => {
    expect((await checkLogs(clusterWithLog('x'), logCheck('Exists', '(unclosed'))).kind).toBe('fail');
  });
});

describe('findAll', () => {
  it.each([
    ['a+', 'caaab a', ['aaa', 'a']],
    ['(a)(b)?', 'a ab', [['a', ''], ['a', 'b']]],
    ['x(\\d)', 'x1 x2', ['1', '2']],
    ['', 'ab', ['', '', '']],
  ] as const)('finds /%s/ in %j as re.findall: %j', (pattern, text, expected) => {
    expect(findAll(pythonRegex(pattern), text)).toEqual(expected);
  });
});

describe('pythonRegex', () => {
  it('translates named groups and leading flags', () => {
    expect(findAll(pythonRegex('(?P<w>o+)(?P=w)'), 'oooo oo')).toEqual(['oo', 'o']);
    expect(findAll(pythonRegex('(?i)HELLO'), 'hello Hello')).toEqual(['hello', 'Hello']);
    expect(findAll(pythonRegex('(?s)a.b'), 'a\nb')).toEqual(['a\nb']);
    expect(findAll(pythonRegex('a.b'), 'a\nb')).toEqual([]);
  });

  it('keeps escapes Python accepts', () => {
    expect(findAll(pythonRegex('Container starting\\.\\.\\.'), 'Container starting...')).toHaveLength(1);
    expect(findAll(pythonRegex('a\\:b'), 'a:b')).toHaveLength(1);
    expect(findAll(pythonRegex('✓ All 3 init stages completed'), '✓ All 3 init stages completed')).toHaveLength(1);
  });
});

describe('validate', () => {
  const procedure = parseValidation(`
timeout_seconds: 10
check_pods:
  - name: p
    namespace: ${NS}
check_logs:
  - name: p
    namespace: ${NS}
    container: c
    regex: done
`);

  it('retries once a second until the pods and logs are as expected', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.setPod(NS, 'p', { phase: 'Pending' });
    cluster.onRead = () => {
      if (clock.t >= 3000) cluster.setPod(NS, 'p', { phase: 'Succeeded', logs: { c: clock.t >= 5000 ? 'done' : '' } });
    };
    expect(await validate(cluster, procedure, 1, clock)).toEqual({ passed: true, attempts: 6 });
    expect(clock.t).toBe(5000);
  });

  it('gives up after timeout_seconds × the multiplier, naming the last reason', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.setPod(NS, 'p', { phase: 'Pending' });
    const outcome = await validate(cluster, procedure, 2.5, clock);
    expect(outcome).toEqual({
      passed: false,
      attempts: 25,
      reason: `not within 25 s (10 s × 2.5): pod ${NS}/p is Pending, expected Succeeded (no container status)`,
    });
  });

  it('stops at the first failure without waiting for the timeout', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.setPod(NS, 'p', { phase: 'Failed' });
    const outcome = await validate(cluster, procedure, 10, clock);
    expect(outcome.passed).toBe(false);
    expect(outcome.attempts).toBe(1);
    expect(clock.t).toBe(0);
  });

  it('checks pods before logs: no log is read while a pod is not in its phase', async () => {
    const cluster = new FakeCluster();
    cluster.setPod(NS, 'p', { phase: 'Running', logs: { c: 'done' } });
    cluster.unreadable.add(`${NS}/p`);
    const outcome = await validate(cluster, procedure, 0.2, new FakeClock());
    expect(outcome).toMatchObject({ passed: false, reason: expect.stringMatching(/is Running, expected Succeeded/) as unknown });
  });

  it('passes at once with no checks (upstream defaults)', async () => {
    expect(await validate(new FakeCluster(), parseValidation(undefined), 1, new FakeClock())).toEqual({ passed: true, attempts: 1 });
  });

  it('retries when the API server errs', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    let calls = 0;
    cluster.onRead = () => {
      calls += 1;
      if (calls === 1) throw new Error('connection refused');
      cluster.setPod(NS, 'p', { phase: 'Succeeded', logs: { c: 'done' } });
    };
    expect(await validate(cluster, procedure, 1, clock)).toEqual({ passed: true, attempts: 2 });
  });
});

describe('parseValidation', () => {
  it('applies the upstream defaults', () => {
    expect(parseValidation('check_pods:\n  - name: a\n    namespace: b\ncheck_logs:\n  - {name: a, namespace: b, regex: x}\n')).toEqual({
      timeout_seconds: 60,
      check_pods: [{ name: 'a', namespace: 'b', status: 'Succeeded' }],
      check_logs: [{ name: 'a', namespace: 'b', regex: 'x', operator: 'Exists' }],
      clean_configs: [],
    });
  });

  it.each([
    ['an unknown field', 'timeout_seconds: 1\nretries: 3\n', /retries/],
    ['an unknown phase', 'check_pods: [{name: a, namespace: b, status: Done}]\n', /status/],
    ['a count without value', 'check_logs: [{name: a, namespace: b, regex: x, operator: CountAtLeast}]\n', /integer value/],
    ['Is without value', 'check_logs: [{name: a, namespace: b, regex: x, operator: Is}]\n', /needs a value/],
    ['an unknown clean-up type', 'clean_configs: [{type: job, name: a, namespace: b}]\n', /type/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseValidation(text)).toThrow(message);
  });
});
