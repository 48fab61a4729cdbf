import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A certificate and its private key, as files and PEM text. */
export interface CertificateFiles {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

/** What a leaf certificate is for. */
export type CertificateUse =
  | { kind: 'server'; dnsNames: readonly string[]; ipAddresses: readonly string[] }
  | { kind: 'client' };

/** Subject and use of a leaf certificate. */
export interface LeafRequest {
  /** File name stem inside the directory: `<stem>.crt` and `<stem>.key`. */
  stem: string;
  commonName: string;
  /** Subject organizations; Kubernetes reads them as the user's groups. */
  organizations?: readonly string[];
  use: CertificateUse;
}

// A config of our own: the system's openssl.cnf would add its default
// extensions (CA:TRUE on every certificate from `req -x509`).
const OPENSSL_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n';
// ECDSA P-256: key generation takes milliseconds, RSA 2048 takes far longer.
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];
const VALID_DAYS = '3650';

/** A CA that issues leaf certificates into its directory. */
export interface CertificateAuthority {
  /** The CA certificate and key. */
  ca: CertificateFiles;
  /** Issues a key pair and a certificate signed by this CA. */
  issue(request: LeafRequest): Promise<CertificateFiles>;
}

/**
 * Creates a self-signed CA named `commonName` in `dir`, using the openssl CLI
 * (3.0 or later, for `req -x509 -CA`).
 */
export async function createCertificateAuthority(dir: string, commonName: string): Promise<CertificateAuthority> {
  const configPath = join(dir, 'openssl.cnf');
  await writeFile(configPath, OPENSSL_CONFIG);
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  await openssl([
    'req', '-x509', '-new', '-config', configPath, ...KEY_ARGS,
    '-keyout', caKeyPath, '-out', caCertPath, '-days', VALID_DAYS,
    '-subj', subject(commonName, []),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-addext', 'subjectKeyIdentifier=hash',
  ]);
  const ca = await readPair(caCertPath, caKeyPath);

  const issue = async (request: LeafRequest): Promise<CertificateFiles> => {
    const certPath = join(dir, `${request.stem}.crt`);
    const keyPath = join(dir, `${request.stem}.key`);
    const { use } = request;
    const extensions =
      use.kind === 'server'
        ? [
            'extendedKeyUsage=serverAuth',
            `subjectAltName=${[
              ...use.dnsNames.map((n) => `DNS:${n}`),
              ...use.ipAddresses.map((ip) => `IP:${ip}`),
            ].join(',')}`,
          ]
        : ['extendedKeyUsage=clientAuth'];
    await openssl([
      'req', '-x509', '-new', '-config', configPath, ...KEY_ARGS,
      '-keyout', keyPath, '-out', certPath, '-days', VALID_DAYS,
      '-subj', subject(request.commonName, request.organizations ?? []),
      '-CA', ca.certPath, '-CAkey', ca.keyPath,
      ...['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', ...extensions].flatMap(
        (ext) => ['-addext', ext],
      ),
    ]);
    return readPair(certPath, keyPath);
  };

  return { ca, issue };
}

/** Paths of a service-account token signing key and its public half. */
export interface SigningKeyFiles {
  privateKeyPath: string;
  publicKeyPath: string;
}

/** Creates an ECDSA P-256 key pair for signing service-account tokens (ES256). */
export async function createSigningKey(dir: string, stem: string): Promise<SigningKeyFiles> {
  const privateKeyPath = join(dir, `${stem}.key`);
  const publicKeyPath = join(dir, `${stem}.pub`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', privateKeyPath]);
  await openssl(['pkey', '-in', privateKeyPath, '-pubout', '-out', publicKeyPath]);
  return { privateKeyPath, publicKeyPath };
}

async function readPair(certPath: string, keyPath: string): Promise<CertificateFiles> {
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPath, keyPath, certPem, keyPem };
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { encoding: 'utf8' });
  } catch (error) {
    const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

// openssl's -subj syntax: `/` separates RDNs, so `/`, `+`, `=` and `\` inside
// a value need a backslash (user names such as `system:node:a/b` stay intact).
function subject(commonName: string, organizations: readonly string[]): string {
  const escape = (v: string): string => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return [...organizations.map((o) => `/O=${escape(o)}`), `/CN=${escape(commonName)}`].join('');
}
