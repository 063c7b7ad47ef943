import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRICT_NETWORK_POLICY, type NetworkPolicy } from '@fleetplane/domain/net/network-policy';
import { guardedConnection, isNetworkPolicyError, NetworkPolicyError, policyLookup, type Resolver } from './guarded-connect';
import { createGuardedFetch } from './guarded-fetch';
import { resolveInternalServices } from './internal-services';

/** A loopback listener that records every request (and every TCP connection) it receives. */
interface Listener {
  url: string;
  port: number;
  connections: number;
  requests: { url: string; authorization: string | undefined; cookie: string | undefined; method: string; body: string }[];
  close(): Promise<void>;
}

async function listen(
  host: string,
  handler: (req: http.IncomingMessage, res: http.ServerResponse, self: Listener) => void,
): Promise<Listener> {
  const server = http.createServer();
  const self: Listener = {
    url: '',
    port: 0,
    connections: 0,
    requests: [],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  server.on('connection', () => self.connections++);
  server.on('request', (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      self.requests.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        method: req.method ?? '',
        body,
      });
      handler(req, res, self);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  self.port = (server.address() as AddressInfo).port;
  self.url = `http://${host}:${self.port}`;
  return self;
}

const ALLOW_LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };

let origin: Listener;
let other: Listener;

beforeAll(async () => {
  // 127.0.0.2 plays "another host": a different origin on loopback.
  other = await listen('127.0.0.2', (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ at: 'other', path: req.url }));
  });
  origin = await listen('127.0.0.1', (req, res) => {
    if (req.url === '/same-origin') return void res.writeHead(302, { location: '/final' }).end();
    if (req.url === '/to-other') return void res.writeHead(307, { location: `${other.url}/landing` }).end();
    if (req.url === '/to-named-metadata')
      return void res.writeHead(302, { location: `http://metadata.test:${origin.port}/latest/meta-data/` }).end();
    if (req.url === '/post-303') return void res.writeHead(303, { location: '/final' }).end();
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ at: 'origin', path: req.url, method: req.method }));
  });
});

afterAll(async () => {
  await origin.close();
  await other.close();
});

describe('guarded fetch', () => {
  it('fetches from loopback when the policy allows it', async () => {
    const f = createGuardedFetch({ policy: ALLOW_LOOPBACK });
    const res = await f(`${origin.url}/hello?x=1`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ at: 'origin', path: '/hello?x=1', method: 'GET' });
  });

  it('refuses loopback under the strict policy without connecting', async () => {
    const before = origin.connections;
    const f = createGuardedFetch({ policy: STRICT_NETWORK_POLICY });
    const err = await f(`${origin.url}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkPolicyError);
    expect((err as Error).message).toMatch(/^refused by network policy: 127\.0\.0\.1 is a loopback address/);
    // A host name is refused at lookup time, before any socket connects.
    const named = await createGuardedFetch({ policy: STRICT_NETWORK_POLICY, resolve: async () => [{ address: '127.0.0.1', family: 4 }] })(
      `http://hub.test:${origin.port}/x`,
    ).catch((e: unknown) => e);
    expect(isNetworkPolicyError(named)).toBe(true);
    expect((named as Error).message).toContain('(hub.test)');
    expect(origin.connections).toBe(before);
  });

  it('keeps Authorization on a same-origin redirect and drops it (and cookies) when a redirect leaves the origin', async () => {
    const f = createGuardedFetch({ policy: ALLOW_LOOPBACK });
    await f(`${origin.url}/same-origin`, { headers: { authorization: 'Bearer hf_secret' } });
    expect(origin.requests.at(-1)).toMatchObject({ url: '/final', authorization: 'Bearer hf_secret' });

    const res = await f(`${origin.url}/to-other`, { headers: { Authorization: 'Bearer hf_secret', Cookie: 'session=1' } });
    expect(await res.json()).toEqual({ at: 'other', path: '/landing' });
    expect(res.redirected).toBe(true);
    expect(res.url).toBe(`${other.url}/landing`);
    expect(other.requests.at(-1)).toMatchObject({ url: '/landing', authorization: undefined, cookie: undefined });
  });

  it('checks every redirect hop: a hop to a name that resolves to a metadata address is refused and never dialled', async () => {
    // metadata.test resolves to loopback first (where a wrongly made connection would land and be
    // counted) and a link-local address second: the whole answer must be refused.
    const resolve: Resolver = async (host) =>
      host === 'metadata.test'
        ? [
            { address: '127.0.0.1', family: 4 },
            { address: '169.254.169.254', family: 4 },
          ]
        : [{ address: host, family: 4 }];
    const f = createGuardedFetch({ policy: ALLOW_LOOPBACK, resolve });
    const hitsBefore = origin.requests.filter((r) => r.url.startsWith('/latest')).length;
    const err = await f(`${origin.url}/to-named-metadata`, { headers: { authorization: 'Bearer k' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkPolicyError);
    expect((err as Error).message).toBe(
      'refused by network policy: 169.254.169.254 is a link-local address (where cloud metadata services live) (metadata.test)',
    );
    expect(origin.requests.filter((r) => r.url.startsWith('/latest')).length).toBe(hitsBefore);
  });

  it('follows 303 with GET and no body, honours redirect: "error" and "manual", and stops redirect loops', async () => {
    const f = createGuardedFetch({ policy: ALLOW_LOOPBACK, maxRedirects: 3 });
    const res = await f(`${origin.url}/post-303`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(await res.json()).toMatchObject({ path: '/final', method: 'GET' });
    await expect(f(`${origin.url}/same-origin`, { redirect: 'error' })).rejects.toThrow(/redirect/);
    const manual = await f(`${origin.url}/same-origin`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe('/final');
    await expect(f(`${origin.url}/loop`)).rejects.toThrow(/more than 3 redirects/);
  });

  it('sends request bodies', async () => {
    const f = createGuardedFetch({ policy: ALLOW_LOOPBACK });
    await f(`${origin.url}/hook`, {
      method: 'POST',
      body: JSON.stringify({ text: 'hi' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(origin.requests.at(-1)).toMatchObject({ url: '/hook', method: 'POST', body: '{"text":"hi"}' });
  });
});

describe('the connect wrapper', () => {
  it('refuses always-refused IP literals before any socket exists', () => {
    for (const url of [
      'http://169.254.169.254/',
      'http://[fe80::1]:8080/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://[::ffff:169.254.169.254]/',
      'http://0.0.0.0:80/',
    ]) {
      expect(() => guardedConnection(new URL(url), { policy: ALLOW_LOOPBACK }), url).toThrow(NetworkPolicyError);
    }
    expect(guardedConnection(new URL('http://127.0.0.2:81/'), { policy: ALLOW_LOOPBACK })).toMatchObject({ host: '127.0.0.2', port: 81 });
    expect(guardedConnection(new URL('https://[::1]/'), { policy: ALLOW_LOOPBACK })).toMatchObject({ host: '::1', port: 443 });
  });

  it('its lookup hands the socket only addresses it checked, in the shape node:net asks for', async () => {
    const resolve: Resolver = async (host) =>
      host === 'meta.test'
        ? [{ address: 'fd00:ec2::254', family: 6 }]
        : [
            { address: '10.0.0.5', family: 4 },
            { address: '2001:db8::5', family: 6 },
          ];
    const lookup = policyLookup(8000, { policy: STRICT_NETWORK_POLICY, resolve });
    const call = (host: string, opts: object) =>
      new Promise<{ err: Error | null; address: unknown; family?: number }>((r) =>
        lookup(host, opts, (err, address, family) => r({ err, address, family })),
      );
    expect(await call('endpoint.test', { all: true })).toEqual({
      err: null,
      address: [
        { address: '10.0.0.5', family: 4 },
        { address: '2001:db8::5', family: 6 },
      ],
      family: undefined,
    });
    expect(await call('endpoint.test', { family: 6 })).toEqual({ err: null, address: '2001:db8::5', family: 6 });
    const refused = await call('meta.test', { all: true });
    expect(refused.err).toBeInstanceOf(NetworkPolicyError);
    expect(refused.err!.message).toMatch(/fd00:ec2::254 is a cloud instance-metadata address/);
  });
});

describe('resolveInternalServices', () => {
  it("turns DATABASE_URL and REDIS_URL into the control plane's own addresses and ports", async () => {
    const resolve: Resolver = async (host) =>
      host === 'db.internal'
        ? [{ address: '10.1.2.3', family: 4 }]
        : host === 'localhost'
          ? [
              { address: '127.0.0.1', family: 4 },
              { address: '::1', family: 6 },
            ]
          : [];
    expect(
      await resolveInternalServices(
        [
          { name: 'Postgres', url: 'postgresql://u:p@db.internal/fleetplane' },
          { name: 'Redis', url: 'redis://localhost:6380' },
          { name: 'Other', url: undefined },
        ],
        resolve,
      ),
    ).toEqual([
      { name: 'Postgres', address: '10.1.2.3', port: 5432 },
      { name: 'Redis', address: '127.0.0.1', port: 6380 },
      { name: 'Redis', address: '::1', port: 6380 },
    ]);
  });
});
