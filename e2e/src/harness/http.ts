import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** TLS material for talking to the API server with a client certificate. */
export interface ClientTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Status and body of a finished request. */
export interface SimpleResponse {
  status: number;
  body: string;
}

/**
 * GETs `url` (http or https, with `tls` for the latter) and buffers the body.
 * `'insecure'`: https without verifying the server's (self-signed) certificate
 * and without client certificate, for health endpoints. Rejects on connection
 * errors and after `timeoutMs`.
 */
export function get(url: string, tls?: ClientTls | 'insecure', timeoutMs = 5000): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    };
    const req =
      tls === undefined
        ? httpRequest(url, { method: 'GET', timeout: timeoutMs }, onResponse)
        : tls === 'insecure'
          ? httpsRequest(url, { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false, agent: false }, onResponse)
          : httpsRequest(
            url,
            { method: 'GET', timeout: timeoutMs, ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, agent: false },
            onResponse,
          );
    req.on('timeout', () => {
      req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`));
    });
    req.on('error', reject);
    req.end();
  });
}
