import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from './hub';

let hub: FakeHub;
const REPO = 'acme/faulty';
const big = Buffer.alloc(300_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
const bigSha = createHash('sha256').update(big).digest('hex');

beforeAll(async () => {
  hub = await startFakeHub({
    repos: [
      { id: REPO, commits: [{ title: 'init', files: { 'w.safetensors': big, 'config.json': '{}\n', 'sub/x.bin': new Uint8Array(1000) } }] },
    ],
  });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequestLog();
});

async function readAll(res: Response): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

const fileUrl = (p: string) => `${hub.url}/${REPO}/resolve/main/${p}`;

describe('request log', () => {
  it('keeps only the newest entries beyond the limit', async () => {
    const small = await startFakeHub({ repos: [{ id: 'a/b', commits: [{ title: 't', files: { x: '1' } }] }], requestLogLimit: 3 });
    try {
      for (let i = 0; i < 5; i++) await (await fetch(`${small.url}/a/b/resolve/main/x?i=${i}`)).text();
      expect(small.requestLog.map((e) => e.path)).toEqual([
        '/a/b/resolve/main/x?i=2',
        '/a/b/resolve/main/x?i=3',
        '/a/b/resolve/main/x?i=4',
      ]);
    } finally {
      await small.close();
    }
  });
});

describe('faults', () => {
  it('dropAfterBytes cuts the body after exactly N bytes, once by default', async () => {
    hub.setFaults({ dropAfterBytes: 100_000 });
    const first = await readAll(await fetch(fileUrl('w.safetensors')));
    expect(first.error).toBeTruthy();
    expect(first.bytes.length).toBe(100_000);
    expect(first.bytes.equals(big.subarray(0, 100_000))).toBe(true);
    const resumed = await fetch(fileUrl('w.safetensors'), { headers: { Range: 'bytes=100000-' } });
    const rest = await readAll(resumed);
    expect(rest.error).toBeNull();
    expect(Buffer.concat([first.bytes, rest.bytes]).equals(big)).toBe(true);
    const cdnEntries = hub.requestLog.filter((e) => e.path.startsWith('/_cdn/'));
    expect(cdnEntries.map((e) => [e.range, e.aborted, e.bytesSent])).toEqual([
      [null, true, 100_000],
      ['bytes=100000-', false, 200_000],
    ]);
  });

  it('dropAfterBytes can fire every time and be scoped by a glob', async () => {
    hub.setFaults({ dropAfterBytes: { bytes: 10, times: 'always', path: '*.bin' } });
    expect((await readAll(await fetch(fileUrl('w.safetensors')))).error).toBeNull();
    for (let i = 0; i < 2; i++) {
      const r = await readAll(await fetch(fileUrl('sub/x.bin')));
      expect(r.error).toBeTruthy();
      expect(r.bytes.length).toBe(10);
    }
  });

  it('corruptByteAt flips the byte at that file offset, also inside a ranged response', async () => {
    hub.setFaults({ corruptByteAt: 150_000 });
    const whole = (await readAll(await fetch(fileUrl('w.safetensors')))).bytes;
    expect(whole.length).toBe(big.length);
    expect(whole[150_000]).toBe(big[150_000]! ^ 0xff);
    expect(createHash('sha256').update(whole).digest('hex')).not.toBe(bigSha);
    const part = (await readAll(await fetch(fileUrl('w.safetensors'), { headers: { Range: 'bytes=149990-150009' } }))).bytes;
    expect(part[10]).toBe(big[150_000]! ^ 0xff);
    const untouched = (await readAll(await fetch(fileUrl('w.safetensors'), { headers: { Range: 'bytes=0-99' } }))).bytes;
    expect(untouched.equals(big.subarray(0, 100))).toBe(true);
  });

  it('rateLimit answers 429 with Retry-After for the next K API requests only', async () => {
    hub.setFaults({ rateLimit: { requests: 2, retryAfterSeconds: 7 } });
    const file = await fetch(fileUrl('config.json'));
    expect(file.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${hub.url}/api/models/${REPO}`);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
    }
    expect((await fetch(`${hub.url}/api/models/${REPO}`)).status).toBe(200);
    expect(hub.faults().remaining.rateLimit).toBe(0);
  });

  it('status5xx answers the next K requests with 503', async () => {
    hub.setFaults({ status5xx: 2 });
    expect((await fetch(`${hub.url}/api/models/${REPO}`)).status).toBe(503);
    expect((await fetch(fileUrl('config.json'))).status).toBe(503);
    expect((await fetch(`${hub.url}/api/models/${REPO}`)).status).toBe(200);
  });

  it('latencyMs delays responses', async () => {
    hub.setFaults({ latencyMs: { ms: 150, path: '/api/**' } });
    const t0 = performance.now();
    await (await fetch(`${hub.url}/api/models/${REPO}`)).arrayBuffer();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = performance.now();
    await (await fetch(fileUrl('config.json'))).arrayBuffer();
    expect(performance.now() - t1).toBeLessThan(140);
  });

  it('bandwidthBytesPerSec throttles file bodies', async () => {
    hub.setFaults({ bandwidthBytesPerSec: 1_000_000 });
    const t0 = performance.now();
    const r = await readAll(await fetch(fileUrl('w.safetensors')));
    const ms = performance.now() - t0;
    expect(r.bytes.equals(big)).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(250); // 300 kB at 1 MB/s
    expect(ms).toBeLessThan(1500);
  });

  it('ignoreRange answers ranged file requests with the whole body', async () => {
    hub.setFaults({ ignoreRange: { times: 1 } });
    const first = await fetch(fileUrl('config.json'), { headers: { Range: 'bytes=1-' } });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('{}\n');
    const second = await fetch(fileUrl('config.json'), { headers: { Range: 'bytes=1-' } });
    expect(second.status).toBe(206);
    expect(await second.text()).toBe('}\n');
  });

  it('is configurable over HTTP and validates the body', async () => {
    const bad = await fetch(`${hub.url}/_fake/faults`, { method: 'POST', body: JSON.stringify({ dropAfterBytes: -1 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/dropAfterBytes/);
    const unknown = await fetch(`${hub.url}/_fake/faults`, { method: 'POST', body: JSON.stringify({ explode: true }) });
    expect(unknown.status).toBe(400);
    const ok = await fetch(`${hub.url}/_fake/faults`, {
      method: 'POST',
      body: JSON.stringify({ status5xx: { requests: 1, status: 502 } }),
    });
    expect(ok.status).toBe(200);
    expect((await fetch(fileUrl('config.json'))).status).toBe(502);
    await fetch(`${hub.url}/_fake/faults`, { method: 'POST', body: JSON.stringify({ status5xx: 1 }) });
    await fetch(`${hub.url}/_fake/faults`, { method: 'DELETE' });
    expect((await fetch(fileUrl('config.json'))).status).toBe(200);
    // Control requests are not logged.
    expect(hub.requestLog.every((e) => !e.path.startsWith('/_fake'))).toBe(true);
  });
});
