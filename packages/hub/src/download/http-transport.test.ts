import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from './http-transport';

const seen: Array<{ server: string; url: string; headers: IncomingHttpHeaders }> = [];
let a: Server;
let b: Server;
let aUrl = '';
let bUrl = '';

const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

beforeAll(async () => {
  b = createServer((req, res) => {
    seen.push({ server: 'b', url: req.url!, headers: req.headers });
    res.end('from b');
  });
  a = createServer((req, res) => {
    seen.push({ server: 'a', url: req.url!, headers: req.headers });
    if (req.url === '/same') return void res.writeHead(302, { Location: '/final' }).end();
    if (req.url === '/cross') return void res.writeHead(302, { Location: `${bUrl}/cdn` }).end();
    if (req.url === '/loop') return void res.writeHead(302, { Location: '/loop' }).end();
    res.end('from a');
  });
  aUrl = await listen(a);
  bUrl = await listen(b);
});
afterAll(async () => {
  await new Promise((r) => a.close(r));
  await new Promise((r) => b.close(r));
});

const read = async (s: NodeJS.ReadableStream) => {
  let t = '';
  for await (const c of s) t += String(c);
  return t;
};

describe('http transport', () => {
  it('follows redirects, keeps auth on the same origin and drops it across origins', async () => {
    const t = createHttpTransport({ maxSockets: 2 });
    const signal = new AbortController().signal;
    try {
      const same = await t.get(`${aUrl}/same`, { headers: { Authorization: 'Bearer hf_x', Range: 'bytes=1-' }, signal });
      expect(same.status).toBe(200);
      expect(await read(same.body)).toBe('from a');
      expect(seen.at(-1)).toMatchObject({ server: 'a', url: '/final', headers: { authorization: 'Bearer hf_x', range: 'bytes=1-' } });

      const cross = await t.get(`${aUrl}/cross`, { headers: { Authorization: 'Bearer hf_x', Range: 'bytes=1-' }, signal });
      expect(await read(cross.body)).toBe('from b');
      expect(cross.url).toBe(`${bUrl}/cdn`);
      expect(seen.at(-1)!.server).toBe('b');
      expect(seen.at(-1)!.headers.authorization).toBeUndefined();
      expect(seen.at(-1)!.headers.range).toBe('bytes=1-');

      await expect(t.get(`${aUrl}/loop`, { headers: {}, signal })).rejects.toThrow(/Too many redirects/);
    } finally {
      t.close();
    }
  });
});
