// The header the custom server (apps/web/server.mjs) stamps, through a real node:http server on
// loopback: whatever a client sends as X-Forwarded-For or as the peer header itself, the handler behind
// stampPeerAddress sees the socket's address in the peer header, and the client-IP rule (without
// trusted proxies) gives that address.
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clientIpFromPeer } from '@fleetplane/domain/net/client-ip';
import { PEER_IP_HEADER, stampPeerAddress } from '../../peer-ip.mjs';

let server: Server | null = null;
afterEach(async () => {
  server?.close();
  if (server) await once(server, 'close');
  server = null;
});

/** A server that stamps and then records what the handler behind it sees (headers and raw headers). */
async function listen(host: string) {
  const seen: { headers: IncomingHttpHeaders; rawHeaders: string[] }[] = [];
  server = createServer((req, res) => {
    stampPeerAddress(req);
    seen.push({ headers: { ...req.headers }, rawHeaders: [...req.rawHeaders] });
    res.end('ok');
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen };
}

/** One request, optionally from a chosen loopback source address; an array value sends the header repeatedly. */
async function send(host: string, port: number, headers: Record<string, string | string[]>, localAddress?: string) {
  const req = request({ host, port, path: '/', method: 'GET', headers, localAddress, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
}

describe('stampPeerAddress', () => {
  it('replaces a spoofed peer header with the socket address, and the client IP ignores a spoofed X-Forwarded-For', async () => {
    const { port, seen } = await listen('127.0.0.1');
    await send('127.0.0.1', port, { 'X-Forwarded-For': '1.2.3.4', 'X-Fleetplane-Peer-IP': ['5.6.7.8', '9.9.9.9'] }, '127.0.0.7');
    expect(seen).toHaveLength(1);
    const { headers, rawHeaders } = seen[0]!;
    expect(headers[PEER_IP_HEADER]).toBe('127.0.0.7');
    const rawPeer = rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === PEER_IP_HEADER);
    expect(rawPeer).toEqual(['127.0.0.7']);
    expect(headers['x-forwarded-for']).toBe('1.2.3.4');
    expect(clientIpFromPeer({ peer: headers[PEER_IP_HEADER] as string, forwardedFor: headers['x-forwarded-for'] as string }, [])).toBe(
      '127.0.0.7',
    );
  });

  it('stamps the socket address when the client sent no such header, over IPv6 loopback too', async () => {
    const v4 = await listen('127.0.0.1');
    await send('127.0.0.1', v4.port, {});
    expect(v4.seen[0]!.headers[PEER_IP_HEADER]).toBe('127.0.0.1');
    server!.close();
    await once(server!, 'close');

    let v6: Awaited<ReturnType<typeof listen>>;
    try {
      v6 = await listen('::1');
    } catch {
      return; // no IPv6 loopback on this machine
    }
    await send('::1', v6.port, { 'x-fleetplane-peer-ip': '127.0.0.1' });
    expect(v6.seen[0]!.headers[PEER_IP_HEADER]).toBe('::1');
  });
});
