import { createHash, randomBytes } from 'node:crypto';

// Join tokens and node credentials are 256-bit random secrets with a readable type prefix (so a leaked
// one is recognisable in logs and secret scanners). Only their sha256 is stored: a plain hash is enough
// for 256 bits of entropy, and it keeps the per-request credential lookup a single index probe.
export const JOIN_TOKEN_PREFIX = 'fpj_';
export const NODE_CREDENTIAL_PREFIX = 'fpa_';
/** Characters kept in clear (type prefix + 8) so people can tell tokens apart in the UI. */
const SHOWN_CHARS = 12;

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretPrefix(secret: string): string {
  return secret.slice(0, SHOWN_CHARS);
}
