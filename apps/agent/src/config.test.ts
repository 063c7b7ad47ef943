import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CACHE_DIR,
  DEFAULT_CREDENTIAL_PATH,
  DEFAULT_QUEUE_DIR,
  readStoredCredential,
  resolveEnrollConfig,
  resolveRunConfig,
} from './config';
import { AGENT_VERSION } from './version';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveRunConfig', () => {
  it('applies defaults', () => {
    expect(resolveRunConfig({}, {})).toEqual({
      once: false,
      dryRun: false,
      intervalSeconds: undefined,
      nvidiaSmi: 'nvidia-smi',
      kernelLog: undefined,
      metricsUrl: undefined,
      server: undefined,
      queueDir: DEFAULT_QUEUE_DIR,
      queueMaxBytes: 32 * 1024 * 1024,
      credentialPath: DEFAULT_CREDENTIAL_PATH,
      cacheDir: DEFAULT_CACHE_DIR,
      hostname: undefined,
      retryMaxSeconds: 60,
      // Commands run by default; the state dir falls back to the queue directory's parent at run time.
      commands: true,
      stateDir: undefined,
      engineBindHost: undefined,
      enginePort: undefined,
    });
  });

  it('reads every option from FLEETPLANE_AGENT_* and lets flags win', () => {
    const env = {
      FLEETPLANE_AGENT_ONCE: 'true',
      FLEETPLANE_AGENT_DRY_RUN: '0',
      FLEETPLANE_AGENT_INTERVAL: '2.5',
      FLEETPLANE_AGENT_NVIDIA_SMI: '/opt/nvidia-smi',
      FLEETPLANE_AGENT_KERNEL_LOG: '/dev/kmsg',
      FLEETPLANE_AGENT_METRICS_URL: 'http://127.0.0.1:8000/metrics',
      FLEETPLANE_AGENT_SERVER: 'https://fp.example.com/',
      FLEETPLANE_AGENT_QUEUE_DIR: '/tmp/q',
      FLEETPLANE_AGENT_QUEUE_MAX_BYTES: '1048576',
      FLEETPLANE_AGENT_CREDENTIAL_PATH: '/tmp/c.json',
      FLEETPLANE_AGENT_CACHE_DIR: '/data/model-cache',
      FLEETPLANE_AGENT_HOSTNAME: 'gpu-node-01',
      FLEETPLANE_AGENT_RETRY_MAX_SECONDS: '5',
    };
    expect(resolveRunConfig({}, env)).toMatchObject({
      once: true,
      dryRun: false,
      intervalSeconds: 2.5,
      nvidiaSmi: '/opt/nvidia-smi',
      kernelLog: '/dev/kmsg',
      metricsUrl: 'http://127.0.0.1:8000/metrics',
      server: 'https://fp.example.com',
      queueDir: '/tmp/q',
      queueMaxBytes: 1048576,
      credentialPath: '/tmp/c.json',
      cacheDir: '/data/model-cache',
      hostname: 'gpu-node-01',
      retryMaxSeconds: 5,
    });
    expect(resolveRunConfig({ intervalSeconds: '30', once: false, queueDir: '/var/q' }, env)).toMatchObject({
      intervalSeconds: 30,
      once: false,
      queueDir: '/var/q',
    });
  });

  it('names the flag and the variable in every error', () => {
    let error: unknown;
    try {
      resolveRunConfig(
        { intervalSeconds: 'soon', queueMaxBytes: '12' },
        { FLEETPLANE_AGENT_METRICS_URL: 'localhost:8000', FLEETPLANE_AGENT_ONCE: 'perhaps' },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('--interval (or FLEETPLANE_AGENT_INTERVAL): must be a number of seconds');
    expect(message).toContain('--queue-max-bytes (or FLEETPLANE_AGENT_QUEUE_MAX_BYTES): must be at least 4096 bytes');
    expect(message).toContain('--metrics-url (or FLEETPLANE_AGENT_METRICS_URL)');
    expect(message).toContain('--once (or FLEETPLANE_AGENT_ONCE): must be true or false');
  });
});

describe('resolveEnrollConfig', () => {
  it('requires server and token', () => {
    expect(() => resolveEnrollConfig({}, {})).toThrow(
      /--server \(or FLEETPLANE_AGENT_SERVER\): is required[\s\S]*--token \(or FLEETPLANE_AGENT_TOKEN\): is required/,
    );
    expect(resolveEnrollConfig({ server: 'http://127.0.0.1:3000', token: 'fpj_0123456789' }, {})).toMatchObject({
      force: false,
      credentialPath: DEFAULT_CREDENTIAL_PATH,
    });
  });
});

describe('readStoredCredential', () => {
  const valid = { server: 'http://127.0.0.1:3000', nodeId: 'n1', clusterId: 'c1', credential: 'fpa_0123456789abcdef' };

  it('reads a valid 0600 credential', async () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify(valid), { mode: 0o600 });
    expect(await readStoredCredential(path)).toEqual({ credential: valid, warning: null });
  });

  it('warns about a credential other users can read', async () => {
    const path = join(dir, 'open.json');
    writeFileSync(path, JSON.stringify(valid));
    chmodSync(path, 0o644);
    expect((await readStoredCredential(path)).warning).toMatch(/readable by other users \(mode 644\)/);
  });

  it.each([
    ['missing.json', null, /No agent credential at .*enroll/],
    ['garbage.json', '{', /not valid JSON/],
    ['bad.json', JSON.stringify({ ...valid, credential: 'x' }), /malformed \(credential:/],
  ])('explains %s', async (name, content, message) => {
    const path = join(dir, name);
    if (content !== null) writeFileSync(path, content);
    await expect(readStoredCredential(path)).rejects.toThrow(message);
  });
});

it('reports the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(AGENT_VERSION).toBe(pkg.version);
});
