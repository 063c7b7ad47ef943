import path from 'node:path';
import { loadConfig } from '@fleetplane/config';
import type { TrackedRepo } from '@fleetplane/db';
import { decryptToken } from './token-crypto';

export interface UpstreamSettings {
  defaultHubUrl: string;
  secretKey: string | undefined;
  dataDir: string;
  env: Record<string, string | undefined>;
}

/** Settings the upstream services read from the environment (validated by the shared config schema). */
export function upstreamSettingsFromEnv(env: Record<string, string | undefined> = process.env): UpstreamSettings {
  const config = loadConfig(env);
  return {
    defaultHubUrl: config.HF_ENDPOINT.replace(/\/+$/, ''),
    secretKey: config.FLEETPLANE_SECRET_KEY,
    dataDir: path.resolve(config.FLEETPLANE_DATA_DIR),
    env,
  };
}

/** Hub URL and token for a repo; a missing secret is reported, never guessed. */
export function resolveRepoAccess(
  repo: Pick<TrackedRepo, 'id' | 'hubEndpoint' | 'accessTokenEncrypted' | 'accessTokenSecretRef'>,
  settings: UpstreamSettings,
): { hubUrl: string; accessToken?: string; problem?: string } {
  const hubUrl = (repo.hubEndpoint ?? settings.defaultHubUrl).replace(/\/+$/, '');
  if (repo.accessTokenSecretRef) {
    const token = settings.env[repo.accessTokenSecretRef];
    if (!token) return { hubUrl, problem: `The access token secret ${repo.accessTokenSecretRef} is not set in the worker's environment` };
    return { hubUrl, accessToken: token };
  }
  if (repo.accessTokenEncrypted) {
    if (!settings.secretKey) return { hubUrl, problem: 'FLEETPLANE_SECRET_KEY is not set, so the stored access token cannot be decrypted' };
    try {
      return { hubUrl, accessToken: decryptToken(settings.secretKey, repo.accessTokenEncrypted, repo.id) };
    } catch (e) {
      return { hubUrl, problem: (e as Error).message };
    }
  }
  return { hubUrl };
}
