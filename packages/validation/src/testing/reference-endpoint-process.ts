import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Test helper: runs tools/reference-endpoint as a child process and drives it through its CLI
 * and admin HTTP API (/_ref/*). A process rather than an import because the endpoint imports this
 * package's task set; importing it back would make the two projects depend on each other. It also
 * keeps the endpoint's CPU apart from the runner's, as a real server's would be.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../../../tools/reference-endpoint/src/cli.ts', import.meta.url));

export interface TRefProcessOptions {
  model?: string;
  engine?: 'vllm' | 'sglang';
  engineVersion?: string;
  maxModelLen?: number;
  seed?: number;
  ttftMs?: number;
  prefillMsPer1k?: number;
  itlMs?: number;
  streamInterval?: number;
  apiKey?: string;
  degradations?: Record<string, unknown>;
}

export interface TRefStats {
  totalRequests: number;
  completionRequests: number;
  inFlight: number;
  maxConcurrentRequests: number;
  succeeded: number;
  failed: number;
  aborted: number;
  promptTokens: number;
  generationTokens: number;
}

export interface TRefTimelineEntry {
  id: string;
  stream: boolean;
  receivedAtMs: number;
  firstChunkSentAtMs: number | null;
  finishedAtMs: number | null;
  status: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  aborted: boolean;
}

export interface TRefProcess {
  url: string;
  child: ChildProcess;
  setDegradations(d: Record<string, unknown>): Promise<void>;
  resetDegradations(): Promise<void>;
  stats(): Promise<TRefStats>;
  timeline(): Promise<{ timeOrigin: number; clockOffsetMs: number; entries: TRefTimelineEntry[] }>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

function args(o: TRefProcessOptions): string[] {
  const a = ['serve', '--port', '0', '--host', '127.0.0.1', '--ready-json'];
  const add = (flag: string, v: unknown) => v !== undefined && a.push(flag, String(v));
  add('--model', o.model);
  add('--engine', o.engine);
  add('--engine-version', o.engineVersion);
  add('--max-model-len', o.maxModelLen);
  add('--seed', o.seed);
  add('--ttft-ms', o.ttftMs);
  add('--prefill-ms-per-1k', o.prefillMsPer1k);
  add('--itl-ms', o.itlMs);
  add('--stream-interval', o.streamInterval);
  add('--api-key', o.apiKey);
  if (o.degradations) a.push('--degradations', JSON.stringify(o.degradations));
  return a;
}

export async function spawnReferenceEndpoint(o: TRefProcessOptions = {}, startTimeoutMs = 20_000): Promise<TRefProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args(o)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`reference endpoint did not start within ${startTimeoutMs} ms: ${stderr}`));
    }, startTimeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // not our JSON line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`reference endpoint exited with ${code}: ${stderr}`));
    });
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  return {
    url,
    child,
    setDegradations: async (d) => void (await call('POST', '/_ref/degradations', d)),
    resetDegradations: async () => void (await call('DELETE', '/_ref/degradations')),
    stats: () => call('GET', '/_ref/stats') as Promise<TRefStats>,
    timeline: () => call('GET', '/_ref/timeline') as Promise<{ timeOrigin: number; clockOffsetMs: number; entries: TRefTimelineEntry[] }>,
    resetStats: async () => void (await call('DELETE', '/_ref/timeline')),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
