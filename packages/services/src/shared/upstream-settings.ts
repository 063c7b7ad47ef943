import path from 'node:path';
import { loadConfig } from '@fleetplane/config';

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
