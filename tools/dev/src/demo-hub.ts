// The demo's stand-in for huggingface.co: the fake Hub serves the DeepSeek V4 demo repos on a fixed
// port and sends Hub-style webhooks to the web app, so a new user can publish an upstream revision
// from the dashboard's dev panel and watch the watcher and the download pipeline pick it up.
import { createRequire } from 'node:module';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { waitForHttp } from './local-net';
import type { ProcessGroup } from './process-group';

export const DEMO_HUB_PORT = 18900;

export interface DemoHub {
  url: string;
  close(): Promise<void>;
}

export async function startDemoHub(opts: { dataDir: string; webAppPort: number; webhookSecret: string; port?: number }): Promise<DemoHub> {
  const hub: FakeHub = await startFakeHub({
    port: opts.port ?? DEMO_HUB_PORT,
    // Published commits survive restarts, like a real upstream.
    dataDir: path.join(opts.dataDir, 'fake-hub'),
    webhook: { url: `http://127.0.0.1:${opts.webAppPort}/api/hooks/hub`, secret: opts.webhookSecret },
    onWarning: (m) => console.warn(`[demo hub] ${m}`),
  });
  return { url: hub.url, close: () => hub.close() };
}

/**
 * The demo hub as a child process of `npm start` (the fake-hub CLI), supervised like web and worker:
 * if it dies it is restarted, and its published commits come back from its data directory.
 */
export async function startDemoHubProcess(
  group: ProcessGroup,
  opts: { root: string; dataDir: string; webAppPort: number; webhookSecret: string; port?: number },
): Promise<{ url: string; ready: boolean }> {
  const port = opts.port ?? DEMO_HUB_PORT;
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('@fleetplane/fake-hub')), 'cli.ts');
  const args = [
    '--import',
    'tsx',
    cli,
    'serve',
    '--port',
    String(port),
    '--data-dir',
    path.join(opts.dataDir, 'fake-hub'),
    '--webhook-url',
    `http://127.0.0.1:${opts.webAppPort}/api/hooks/hub`,
  ];
  group.start('hub', process.execPath, args, { cwd: opts.root, env: { ...process.env, FAKE_HUB_WEBHOOK_SECRET: opts.webhookSecret } });
  const url = `http://127.0.0.1:${port}`;
  const ready = await waitForHttp(`${url}/_fake/health`, 30_000, 200);
  return { url, ready };
}
