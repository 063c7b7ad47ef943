import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives local defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/fleetplane');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.PORT).toBe(3000);
    expect(c.FLEETPLANE_DEMO).toBe(true);
    expect(c.BETTER_AUTH_SECRET).toBeUndefined();
  });

  it('parses typed values', () => {
    const c = loadConfig({ PORT: '8080', FLEETPLANE_DEMO: 'false', TELEMETRY_RAW_RETENTION_HOURS: '12' });
    expect(c.PORT).toBe(8080);
    expect(c.FLEETPLANE_DEMO).toBe(false);
    expect(c.TELEMETRY_RAW_RETENTION_HOURS).toBe(12);
  });

  it('reports every bad variable at once, naming each', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', BETTER_AUTH_SECRET: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT=/m);
    expect(problems).toMatch(/REDIS_URL=.*redis: or rediss: URL/);
    expect(problems).toMatch(/BETTER_AUTH_SECRET=.*at least 32/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});

describe('README configuration table', () => {
  it('documents every variable in CONFIG_SPEC', async () => {
    const { readFile } = await import('node:fs/promises');
    const { CONFIG_SPEC } = await import('./config');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const key of Object.keys(CONFIG_SPEC))
      expect(readme, `README lacks ${key} (run npx tsx tools/scripts/config-table.ts)`).toContain(`| \`${key}\` |`);
  });
});
