import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkPolicyError, STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import { createHttpTransport, type TransportResponse } from './http-transport';

const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };

const big = Buffer.alloc(3_000_001, 7);
const seen: Array<{ server: string; url: string; headers: IncomingHttpHeaders }> = [];
let a: Server;
let b: Server;
let aUrl = '';
let bUrl = '';

const listen = (s: Server) =>
  new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

beforeAll(async () => {
  b = createServer((req, res) => {
    seen.push({ server: 'b', url: req.url!, headers: req.headers });
    res.end('from b');
  });
  a = createServer((req, res) => {
    seen.push({ server: 'a', url: req.url!, headers: req.headers });
    if (req.url === '/same') return void res.writeHead(302, { Location: '/final' }).end();
    if (req.url === '/cross') return void res.writeHead(302, { Location: `${bUrl}/cdn` }).end();
    if (req.url === '/to-metadata') return void res.writeHead(302, { Location: `http://metadata.test:${new URL(bUrl).port}/latest` }).end();
    if (req.url === '/loop') return void res.writeHead(302, { Location: '/loop' }).end();
    if (req.url === '/chunked') {
      // No Content-Length: Transfer-Encoding chunked, which the raw path hands to node:http.
      res.write('chunk one, ');
      return void setTimeout(() => res.end('chunk two'), 10);
    }
    if (req.url === '/silent') return; // accepts the request and never answers
    if (req.url === '/big') return void res.writeHead(200, { 'Content-Length': big.length }).end(big);
    res.end('from a');
  });
  aUrl = await listen(a);
  bUrl = await listen(b);
});
afterAll(async () => {
  await new Promise((r) => a.close(r));
  await new Promise((r) => b.close(r));
});

const dir = mkdtempSync(path.join(tmpdir(), 'transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const read = async (res: TransportResponse) => {
  const file = path.join(dir, `body-${n++}`);
  await res.saveTo({
    path: file,
    append: false,
    signal: new AbortController().signal,
    stallTimeoutMs: 10_000,
    onStall: () => undefined,
    onChunk: () => undefined,
  });
  return readFileSync(file, 'utf8');
};

describe('http transport', () => {
  it('follows redirects, keeps auth on the same origin and drops it across origins', async () => {
    const t = createHttpTransport({ guard: { policy: LOOPBACK }, maxSockets: 2 });
    const signal = new AbortController().signal;
    try {
      const same = await t.get(`${aUrl}/same`, { headers: { Authorization: 'Bearer hf_x', Range: 'bytes=1-' }, signal });
      expect(same.status).toBe(200);
      expect(await read(same)).toBe('from a');
      expect(seen.at(-1)).toMatchObject({ server: 'a', url: '/final', headers: { authorization: 'Bearer hf_x', range: 'bytes=1-' } });

      const cross = await t.get(`${aUrl}/cross`, { headers: { Authorization: 'Bearer hf_x', Range: 'bytes=1-' }, signal });
      expect(await read(cross)).toBe('from b');
      expect(cross.url).toBe(`${bUrl}/cdn`);
      expect(seen.at(-1)!.server).toBe('b');
      expect(seen.at(-1)!.headers.authorization).toBeUndefined();
      expect(seen.at(-1)!.headers.range).toBe('bytes=1-');

      await expect(t.get(`${aUrl}/loop`, { headers: {}, signal })).rejects.toThrow(/Too many redirects/);

      const chunked = await t.get(`${aUrl}/chunked`, { headers: {}, signal });
      expect(chunked.header('transfer-encoding')).toBe('chunked');
      expect(await read(chunked)).toBe('chunk one, chunk two');
      expect(seen.filter((e) => e.url === '/chunked')).toHaveLength(2); // raw attempt, then node:http

      const file = path.join(dir, 'big');
      let hashed = 0;
      const res = await t.get(`${aUrl}/big`, { headers: {}, signal });
      expect(res.header('content-length')).toBe(String(big.length));
      const r = await res.saveTo({
        path: file,
        append: false,
        signal,
        stallTimeoutMs: 10_000,
        onStall: () => undefined,
        onChunk: (c) => (hashed += c.length),
      });
      expect(r.received).toBe(big.length);
      expect(hashed).toBe(big.length);
      expect(readFileSync(file).equals(big)).toBe(true);

      const silent = createHttpTransport({ guard: { policy: LOOPBACK }, maxSockets: 1, headTimeoutMs: 200 });
      const t0 = performance.now();
      await expect(silent.get(`${aUrl}/silent`, { headers: {}, signal })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
      silent.close();
    } finally {
      t.close();
    }
  });

  it('connects only where the network policy allows, on the first request and on every redirect hop', async () => {
    const signal = new AbortController().signal;
    // metadata.test answers loopback first (where a wrong connection would land, and be seen by b)
    // and a link-local address second: the whole name is refused before any socket connects.
    const resolve: Resolver = async (host) =>
      host === 'metadata.test'
        ? [
            { address: '127.0.0.1', family: 4 },
            { address: '169.254.169.254', family: 4 },
          ]
        : [{ address: host, family: 4 }];
    for (const raw of [true, false]) {
      const t = createHttpTransport({ guard: { policy: LOOPBACK, resolve }, maxSockets: 1, raw });
      const strict = createHttpTransport({ guard: { policy: STRICT_NETWORK_POLICY }, maxSockets: 1, raw });
      try {
        const before = seen.length;
        const hop = await t.get(`${aUrl}/to-metadata`, { headers: { Authorization: 'Bearer hf_x' }, signal }).catch((e: unknown) => e);
        expect(hop).toBeInstanceOf(NetworkPolicyError);
        expect((hop as Error).message).toMatch(/^refused by network policy: 169\.254\.169\.254 is a link-local address/);
        // Only a's redirect was asked for (twice when the raw path hands a body-less answer to node:http).
        expect(seen.slice(before).every((e) => e.server === 'a' && e.url === '/to-metadata')).toBe(true);

        const mid = seen.length;
        const first = await strict.get(`${aUrl}/final`, { headers: {}, signal }).catch((e: unknown) => e);
        expect(first).toBeInstanceOf(NetworkPolicyError);
        expect((first as Error).message).toMatch(/127\.0\.0\.1 is a loopback address/);
        expect(seen.length).toBe(mid);
      } finally {
        t.close();
        strict.close();
      }
    }
  });
});
