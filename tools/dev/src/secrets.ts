import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LocalSecrets {
  BETTER_AUTH_SECRET: string;
  FLEETPLANE_SECRET_KEY: string;
  HUB_WEBHOOK_SECRET: string;
}

/** Secrets for a local install, generated once into .data/secrets.json (mode 0600) and reused. */
export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = path.resolve(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  mkdirSync(path.dirname(file), { recursive: true });
  const secrets: LocalSecrets = {
    BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
    FLEETPLANE_SECRET_KEY: randomBytes(32).toString('hex'),
    HUB_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function generatePassword(): string {
  // 18 random bytes -> 24 base64url characters: well over the 12-character minimum.
  return randomBytes(18).toString('base64url');
}
