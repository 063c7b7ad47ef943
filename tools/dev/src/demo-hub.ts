// The demo's stand-in for huggingface.co: the fake Hub serves the DeepSeek V4 demo repos on a fixed
// port and sends Hub-style webhooks to the web app, so a new user can publish an upstream revision
// from the dashboard's dev panel and watch the watcher and the download pipeline pick it up.
import path from 'node:path';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';

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
