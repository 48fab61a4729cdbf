import type { TranslateOptions } from '../translate/types.js';
import type { LocalClusterSource } from './local-pods.js';

/** Where the remote cluster's kubeconfig comes from. */
export type KubeconfigSource =
  | { kind: 'file'; path: string }
  | { kind: 'inline'; content: string }
  | { kind: 'in-cluster' }
  | { kind: 'default' };

/**
 * Client settings that override the kubeconfig (the reference plugin's
 * `k8s.client_configuration`: `verify_ssl`, `ssl_ca_cert`, `cert_file`,
 * `key_file`, `host`, `proxy`).
 */
export interface ClientOverrides {
  server?: string;
  insecureSkipTlsVerify?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  proxyUrl?: string;
}

/** Everything `KubernetesProvider.fromConfig` needs, as plain data. */
export interface KubernetesProviderConfig {
  kubeconfig: KubeconfigSource;
  clientOverrides: ClientOverrides;
  translate: TranslateOptions;
  /** Server-side apply field manager; one per installation. */
  fieldManager: string;
  /** How often leftovers (objects whose remote pod is gone) are swept; 0 disables. */
  sweepIntervalMs: number;
  /**
   * Read access to the local cluster; when set, the sweep also deletes
   * remote pods whose local pod is gone. Unset: the local cluster is never read.
   */
  local?: LocalClusterSource | undefined;
}
