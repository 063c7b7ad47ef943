import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Format: v1.<iv>.<tag>.<ciphertext>, base64url. The version prefix lets the scheme change later
// without guessing; the tracked repo id is bound as AAD so a ciphertext cannot be moved to another repo.
const VERSION = 'v1';

function keyBytes(hexKey: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(hexKey)) throw new Error('FLEETPLANE_SECRET_KEY must be 64 hex characters (32 bytes)');
  return Buffer.from(hexKey, 'hex');
}

export function encryptToken(hexKey: string, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(hexKey), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function decryptToken(hexKey: string, blob: string, aad: string): string {
  const [version, iv, tag, ct] = blob.split('.');
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('Stored access token has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', keyBytes(hexKey), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('Stored access token cannot be decrypted: FLEETPLANE_SECRET_KEY changed or the value was tampered with');
  }
}
