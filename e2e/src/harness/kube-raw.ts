import { IsomorphicFetchHttpLibrary, RequestContext, type HttpMethod, type KubeConfig } from '@kubernetes/client-node';

/** `metadata` of an object read back as JSON, the fields tests look at. */
export interface MetaJson {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  deletionTimestamp?: string;
  [field: string]: unknown;
}

/** One answer of the API server, its body as text and parsed. */
export interface RawAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON; `undefined` for an empty body or one that is not JSON (metrics, logs). */
  json: unknown;
}

/** Calls to an API server with a kubeconfig's credentials, bodies as plain JSON. */
export interface RawKube {
  /** Any answer, whatever its status. */
  call: (method: HttpMethod, path: string, body?: unknown) => Promise<RawAnswer>;
  /** The parsed body of a 2xx answer; anything else throws with the status and body. */
  ok: <T>(method: HttpMethod, path: string, body?: unknown) => Promise<T>;
}

/**
 * A raw client for tests: objects are read and written as the API server's
 * JSON, without client-node's typed models (which drop fields they do not
 * know), with the kubeconfig's authentication.
 */
export function rawKube(kc: KubeConfig): RawKube {
  const http = new IsomorphicFetchHttpLibrary();
  const call = async (method: HttpMethod, path: string, body?: unknown): Promise<RawAnswer> => {
    const server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    const ctx = new RequestContext(`${server}${path}`, method);
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    await kc.applySecurityAuthentication(ctx);
    const res = await http.send(ctx).toPromise();
    const text = await res.body.text();
    return { status: res.httpStatusCode, text, json: parseJson(text) };
  };
  return {
    call,
    ok: async <T>(method: HttpMethod, path: string, body?: unknown): Promise<T> => {
      const answer = await call(method, path, body);
      if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
      return answer.json as T;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
