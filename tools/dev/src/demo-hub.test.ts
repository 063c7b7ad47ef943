import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoHubProcess } from './demo-hub';
import { freePort, waitForHttp } from './local-net';
import { ProcessGroup } from './process-group';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const group = new ProcessGroup({ initialDelayMs: 200, maxDelayMs: 1_000, healthyAfterMs: 60_000 });
let dataDir: string | undefined;

afterAll(async () => {
  await group.stopAll(5_000);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the demo hub as a supervised child of npm start', () => {
  it('comes back after being killed, with the commits published before', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'fp-demo-hub-'));
    const port = await freePort();
    const restarts: string[] = [];
    group.onRestart = (name, exit) => restarts.push(`${name} ${exit}`);
    const hub = await startDemoHubProcess(group, { root, dataDir, webAppPort: 9, webhookSecret: 'demo-secret', port });
    expect(hub.ready).toBe(true);
    const published = await fetch(`${hub.url}/_fake/repos/deepseek-ai/DeepSeek-V4-Pro/publish-demo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'docs' }),
    });
    expect(published.ok).toBe(true);
    const { sha } = (await published.json()) as { sha: string };

    const firstPid = group.current('hub')!.pid!;
    process.kill(firstPid, 'SIGKILL');
    await expect.poll(() => group.current('hub')?.pid !== firstPid, { timeout: 10_000 }).toBe(true);
    expect(restarts).toEqual(['hub signal SIGKILL']);
    expect(await waitForHttp(`${hub.url}/_fake/health`, 30_000, 200)).toBe(true);
    const info = (await (await fetch(`${hub.url}/api/models/deepseek-ai/DeepSeek-V4-Pro`)).json()) as { sha: string };
    expect(info.sha).toBe(sha);
  }, 90_000);
});
