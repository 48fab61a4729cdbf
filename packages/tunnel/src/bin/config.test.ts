import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keygen, tempDir } from '../__tests__/helpers.js';
import { bastionVariables, gatewayVariables, loadBastionConfig, loadGatewayConfig } from './config.js';
import { ConfigError, type FileReader } from '@interlink-k8s/contract';
import { readIfExists } from './runtime.js';

const dir = tempDir();
const host = keygen(dir.path, 'host');
const client = keygen(dir.path, 'client');
const authorizedPath = join(dir.path, 'authorized_keys');
writeFileSync(authorizedPath, `${client.publicLine}\n`);
afterAll(() => { dir.remove(); });

const noFiles: FileReader = () => undefined;

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadGatewayConfig', () => {
  const base = { TUNNEL_GATEWAY_HOST_KEY: host.privatePath, TUNNEL_GATEWAY_AUTHORIZED_KEYS: authorizedPath };

  it('reads keys from files and fills in the defaults', () => {
    const config = loadGatewayConfig(base, readIfExists);

    expect(config.gateway).toMatchObject({
      hostKeys: [host.privateText],
      authorizedKeys: `${client.publicLine}\n`,
      listenHost: '0.0.0.0',
      listenPort: 2222,
      forwardHost: '0.0.0.0',
      portRange: { min: 20000, max: 20999 },
      maxForwardsPerConnection: 64,
      keepaliveIntervalMs: 15000,
    });
    expect(config.gateway.ciphers).toBeUndefined();
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes keys inline, as text or base64, without touching the file system', () => {
    const config = loadGatewayConfig(
      {
        TUNNEL_GATEWAY_HOST_KEY: Buffer.from(host.privateText).toString('base64'),
        TUNNEL_GATEWAY_AUTHORIZED_KEYS: client.publicLine,
        TUNNEL_GATEWAY_PORT_RANGE: '30000-30009',
        TUNNEL_CIPHERS: 'aes128-gcm@openssh.com, chacha20-poly1305@openssh.com',
        TUNNEL_GATEWAY_HTTP_PORT: '',
      },
      noFiles,
    );

    expect(config.gateway.hostKeys).toEqual([host.privateText]);
    expect(config.gateway.portRange).toEqual({ min: 30000, max: 30009 });
    expect(config.gateway.ciphers).toEqual(['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com']);
    expect(config.http.port).toBe(9090);
  });

  it.each([
    ['TUNNEL_GATEWAY_HOST_KEY', '/nowhere/key', 'neither an existing file nor an inline key'],
    ['TUNNEL_GATEWAY_HOST_KEY', client.publicLine, 'expected a private key'],
    ['TUNNEL_GATEWAY_AUTHORIZED_KEYS', `restrict ${client.publicLine}`, 'key options are not supported'],
    ['TUNNEL_GATEWAY_AUTHORIZED_KEYS', '# nobody\n', 'neither an existing file nor an inline key'],
    ['TUNNEL_GATEWAY_LISTEN_PORT', '70000', 'expected at most 65535'],
    ['TUNNEL_GATEWAY_LISTEN_PORT', 'ssh', 'expected a whole number'],
    ['TUNNEL_GATEWAY_PORT_RANGE', '20999-20000', 'expected MIN-MAX'],
    ['TUNNEL_GATEWAY_FORWARD_HOST', 'http://x', 'expected a host name or IP address'],
    ['TUNNEL_CIPHERS', 'aes128-cbc', 'expected a comma-separated list'],
    ['TUNNEL_CIPHERS', 'aes128-gcm@openssh.com,,aes256-ctr', 'expected a comma-separated list'],
    ['TUNNEL_GATEWAY_MAX_AUTH_ATTEMPTS', '0', 'expected at least 1'],
    ['TUNNEL_LOG_LEVEL', 'loud', 'expected fatal, error'],
  ])('names %s when it is %j', (name, value, message) => {
    const problems = problemsOf(() => loadGatewayConfig({ ...base, [name]: value }, readIfExists));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: .*${message.replace(/[()]/g, '\\$&')}`));
  });

  it('lists every missing required variable at once', () => {
    expect(problemsOf(() => loadGatewayConfig({}, noFiles))).toEqual([
      'TUNNEL_GATEWAY_HOST_KEY: required',
      'TUNNEL_GATEWAY_AUTHORIZED_KEYS: required unless TUNNEL_GATEWAY_POD_KEY_SECRET is set (give either or both)',
    ]);
  });

  describe('per-pod keys', () => {
    const secret = Buffer.alloc(32, 3);
    const secretPath = join(dir.path, 'pod-key-secret');
    writeFileSync(secretPath, `${secret.toString('base64')}\n`);
    const onlyHost = { TUNNEL_GATEWAY_HOST_KEY: host.privatePath };

    it('takes the pod-key secret instead of authorised keys, from a file or inline', () => {
      const fromFile = loadGatewayConfig({ ...onlyHost, TUNNEL_GATEWAY_POD_KEY_SECRET: secretPath }, readIfExists);
      const inline = loadGatewayConfig({ ...onlyHost, TUNNEL_GATEWAY_POD_KEY_SECRET: secret.toString('base64') }, readIfExists);

      expect(fromFile.gateway.podKeySecret).toEqual(secret);
      expect(inline.gateway.podKeySecret).toEqual(secret);
      expect(fromFile.gateway.authorizedKeys).toBe('');
    });

    it('refuses a secret shorter than 32 bytes without echoing it', () => {
      const short = Buffer.alloc(31, 9).toString('base64');
      const problems = problemsOf(() => loadGatewayConfig({ ...onlyHost, TUNNEL_GATEWAY_POD_KEY_SECRET: short }, readIfExists));

      expect(problems).toEqual(['TUNNEL_GATEWAY_POD_KEY_SECRET: expected base64 of at least 32 bytes (e.g. openssl rand -base64 32), inline or in an existing file']);
      expect(problems.join()).not.toContain(short);
    });
  });

  describe('publishing Services', () => {
    const caPath = join(dir.path, 'ca.crt');
    const tokenPath = join(dir.path, 'token');
    writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\n...\n');
    writeFileSync(tokenPath, 'token');
    const publishing = {
      ...base,
      TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
      TUNNEL_GATEWAY_ADVERTISE_ADDRESS: '10.244.0.7',
      TUNNEL_GATEWAY_KUBE_CA_FILE: caPath,
      TUNNEL_GATEWAY_KUBE_TOKEN_FILE: tokenPath,
    };

    it('is off unless asked for', () => {
      expect(loadGatewayConfig(base, readIfExists).publish).toBeUndefined();
    });

    it('finds the API server from the in-cluster variables, IPv6 included', () => {
      const config = loadGatewayConfig({ ...publishing, KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443', TUNNEL_GATEWAY_NAMESPACES: 'shop, web' }, readIfExists);

      expect(config.publish?.kube).toEqual({ server: 'https://[fd00::1]:443', ca: '-----BEGIN CERTIFICATE-----\n...\n', tokenFile: tokenPath, namespaces: ['shop', 'web'] });
      expect(config.publish?.publisher).toMatchObject({ address: '10.244.0.7', graceMs: 30000, namespaces: ['shop', 'web'], verifiedOnly: false });
      const withPodKeys = loadGatewayConfig({ ...publishing, KUBERNETES_SERVICE_HOST: '10.0.0.1', TUNNEL_GATEWAY_POD_KEY_SECRET: Buffer.alloc(32, 1).toString('base64') }, readIfExists);
      expect(withPodKeys.publish?.publisher.verifiedOnly).toBe(true);
    });

    it('takes an explicit API server URL', () => {
      const config = loadGatewayConfig({ ...publishing, TUNNEL_GATEWAY_KUBE_API_URL: 'https://127.0.0.1:6443', TUNNEL_GATEWAY_SERVICE_GRACE_MS: '5000' }, readIfExists);
      expect(config.publish?.kube.server).toBe('https://127.0.0.1:6443');
      expect(config.publish?.publisher.graceMs).toBe(5000);
    });

    it('names every missing piece at once', () => {
      const problems = problemsOf(() =>
        loadGatewayConfig(
          { ...base, TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true', TUNNEL_GATEWAY_KUBE_CA_FILE: '/nowhere/ca', TUNNEL_GATEWAY_KUBE_TOKEN_FILE: '/nowhere/token' },
          readIfExists,
        ),
      );
      expect(problems).toEqual([
        'TUNNEL_GATEWAY_KUBE_API_URL: required when publishing outside a pod (KUBERNETES_SERVICE_HOST is not set)',
        'TUNNEL_GATEWAY_ADVERTISE_ADDRESS: required when TUNNEL_GATEWAY_PUBLISH_SERVICES is true',
        'TUNNEL_GATEWAY_KUBE_CA_FILE: /nowhere/ca does not exist',
        'TUNNEL_GATEWAY_KUBE_TOKEN_FILE: /nowhere/token does not exist',
      ]);
    });

    it.each([
      ['TUNNEL_GATEWAY_PUBLISH_SERVICES', 'yes', 'expected true or false'],
      ['TUNNEL_GATEWAY_ADVERTISE_ADDRESS', 'gateway.local', 'expected an IPv4 or IPv6 address'],
      ['TUNNEL_GATEWAY_ADVERTISE_ADDRESS', '127.0.0.1', 'loopback and link-local addresses cannot be endpoints: give the pod IP'],
      ['TUNNEL_GATEWAY_ADVERTISE_ADDRESS', 'fe80::1', 'loopback and link-local addresses cannot be endpoints: give the pod IP'],
      ['TUNNEL_GATEWAY_KUBE_API_URL', 'http://127.0.0.1:8080', 'expected an https:// URL'],
      ['TUNNEL_GATEWAY_KUBE_API_URL', 'https//api', 'expected an https:// URL'],
    ])('names %s when it is %j', (name, value, message) => {
      expect(problemsOf(() => loadGatewayConfig({ ...publishing, [name]: value }, readIfExists))).toEqual([`${name}: ${message}`]);
    });
  });
});

describe('loadBastionConfig', () => {
  const base = {
    TUNNEL_BASTION_GATEWAY_HOST: 'gateway.tunnel.svc',
    TUNNEL_BASTION_GATEWAY_HOST_KEY: host.publicLine,
    TUNNEL_BASTION_PRIVATE_KEY: Buffer.from(client.privateText).toString('base64'),
    TUNNEL_BASTION_FORWARDS: '8080',
  };

  it('fills in the defaults', () => {
    const { bastion } = loadBastionConfig(base, noFiles);

    expect(bastion).toMatchObject({
      host: 'gateway.tunnel.svc',
      port: 2222,
      username: 'bastion',
      privateKey: client.privateText,
      hostKeys: host.publicLine,
      forwards: [{ bindAddress: '0.0.0.0', bindPort: 8080, targetHost: '127.0.0.1', targetPort: 8080 }],
      keepaliveIntervalMs: 10000,
      keepaliveCountMax: 3,
      backoff: { initialMs: 200, maxMs: 3000, multiplier: 2, jitter: 0.5 },
    });
  });

  it.each([
    ['8080', [{ bindPort: 8080, targetHost: '127.0.0.1', targetPort: 8080 }]],
    ['80:8080, 443:8443', [{ bindPort: 80, targetPort: 8080 }, { bindPort: 443, targetPort: 8443 }]],
    ['9000:web.shop.svc:80', [{ bindPort: 9000, targetHost: 'web.shop.svc', targetPort: 80 }]],
  ])('reads the forwards %j', (value, expected) => {
    const { bastion } = loadBastionConfig({ ...base, TUNNEL_BASTION_FORWARDS: value }, noFiles);

    expect(bastion.forwards).toMatchObject(expected);
  });

  it('turns labels into the user name the gateway parses', () => {
    const { bastion } = loadBastionConfig({ ...base, TUNNEL_BASTION_LABELS: 'pod=web,namespace=shop' }, noFiles);

    expect(bastion.labels).toEqual({ pod: 'web', namespace: 'shop' });
    expect(bastion.username).toBeUndefined();
  });

  it.each([
    ['TUNNEL_BASTION_FORWARDS', '8080:', 'expected PORT, PORT:TARGET_PORT'],
    ['TUNNEL_BASTION_FORWARDS', '8080:0', 'expected PORT, PORT:TARGET_PORT'],
    ['TUNNEL_BASTION_GATEWAY_HOST_KEY', client.privateText, 'expected public keys, one per line'],
    ['TUNNEL_BASTION_PRIVATE_KEY', 'bm90IGEga2V5', 'neither an existing file nor an inline key'],
    ['TUNNEL_BASTION_GATEWAY_PORT', '0', 'expected at least 1'],
    ['TUNNEL_BASTION_LABELS', 'pod', 'expected key=value'],
    ['TUNNEL_BASTION_BACKOFF_MAX_MS', '100', 'must be at least TUNNEL_BASTION_BACKOFF_INITIAL_MS'],
  ])('names %s when it is %j', (name, value, message) => {
    const problems = problemsOf(() => loadBastionConfig({ ...base, [name]: value }, noFiles));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: .*${message}`));
  });

  it('refuses a user name and labels together', () => {
    expect(problemsOf(() => loadBastionConfig({ ...base, TUNNEL_BASTION_USERNAME: 'x', TUNNEL_BASTION_LABELS: 'a=b' }, noFiles))).toEqual([
      'TUNNEL_BASTION_USERNAME: give either a user name or TUNNEL_BASTION_LABELS, not both',
    ]);
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it.each([
    ['gateway', Object.values(gatewayVariables(noFiles))],
    ['bastion', Object.values(bastionVariables(noFiles))],
  ])('documents every %s variable with its default', (_what, variables) => {
    for (const variable of variables) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${variable.name}\` |`));
      expect(row).toBeDefined();
      const cells = (row ?? '').split('|').map((cell) => cell.trim());
      const expectedDefault = variable.required ? 'required' : variable.default === undefined ? 'unset' : `\`${variable.default}\``;
      expect({ name: variable.name, default: cells[2] }).toEqual({ name: variable.name, default: expectedDefault });
    }
  });
});
