import { loadConfig } from '@fleetplane/config';
import { clientIpFromPeer, parseTrustedProxies } from '@fleetplane/domain/net/client-ip';
import type { Cidr } from '@fleetplane/domain/net/ip-address';
import { PEER_IP_HEADER } from '../../peer-ip.mjs';

/**
 * The header Better Auth reads the client IP from (see runtime.ts). The auth route sets it from
 * clientIp() and replaces whatever a client sent under that name, so the address rate limits count
 * and the address audit events record come from one decision.
 */
export const CLIENT_IP_HEADER = 'x-fleetplane-client-ip';

let trusted: { text: string; cidrs: Cidr[] } | null = null;

function trustedProxies(): Cidr[] {
  const text = loadConfig().TRUSTED_PROXY_CIDRS;
  if (trusted?.text !== text) trusted = { text, cidrs: parseTrustedProxies(text) };
  return trusted.cidrs;
}

/**
 * The client IP of a request: the socket's address, which the custom server (apps/web/server.mjs)
 * stamps into PEER_IP_HEADER, or under TRUSTED_PROXY_CIDRS the client behind those proxies from
 * X-Forwarded-For (see clientIpFromPeer). Null when the request did not come through that server.
 */
export function clientIp(headers: Headers): string | null {
  return clientIpFromPeer({ peer: headers.get(PEER_IP_HEADER), forwardedFor: headers.get('x-forwarded-for') }, trustedProxies());
}

/** The request as Better Auth should see it: CLIENT_IP_HEADER is the decided client IP, or absent. */
export function withClientIp(req: Request): Request {
  const headers = new Headers(req.headers);
  headers.delete(CLIENT_IP_HEADER);
  const ip = clientIp(req.headers);
  if (ip) headers.set(CLIENT_IP_HEADER, ip);
  return new Request(req, { headers, duplex: 'half' } as RequestInit);
}
