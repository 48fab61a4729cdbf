/**
 * The SSH ciphers the gateway and the bastion (ssh2) can use: a subset of
 * OpenSSH's, what `TUNNEL_CIPHERS` accepts. The plugin checks its
 * `tcp_tunnel.ciphers` against the same list.
 */
export const SUPPORTED_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

/** One of {@link SUPPORTED_CIPHERS}. */
export type SupportedCipher = (typeof SUPPORTED_CIPHERS)[number];
