import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = new URL('..', import.meta.url).pathname;
const bundle = join(dir, 'dist', 'fleetplane-agent.mjs');
let elsewhere: string;

describe('the bundled agent', () => {
  beforeAll(async () => {
    await run(process.execPath, ['build.mjs'], { cwd: dir });
    elsewhere = mkdtempSync(join(tmpdir(), 'agent-bundle-'));
  }, 60_000);
  afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

  it('runs under plain node: node dist/fleetplane-agent.mjs --help', async () => {
    expect(statSync(bundle).mode & 0o111).not.toBe(0);
    const { stdout } = await run(process.execPath, [bundle, '--help'], { cwd: dir });
    expect(stdout).toContain('Usage: fleetplane-agent [options] [command]');
    expect(stdout).toMatch(/enroll \[options\]/);
    expect(stdout).toMatch(/run \[options\]/);
  });

  it('needs nothing but the one file (no node_modules next to it) and runs via its shebang', async () => {
    const copy = join(elsewhere, 'fleetplane-agent.mjs');
    copyFileSync(bundle, copy);
    const version = await run(copy, ['--version'], { cwd: elsewhere, env: { PATH: process.env.PATH } });
    expect(version.stdout.trim()).toBe('0.1.0');
    const help = await run(process.execPath, [copy, 'run', '--help'], { cwd: elsewhere, env: { PATH: process.env.PATH } });
    expect(help.stdout).toContain('--queue-max-bytes <n>');
  });
});
