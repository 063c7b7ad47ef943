import { cidrContains, formatIpAddress, parseCidr, parseIpAddress, type Cidr, type IpAddress } from './ip-address';

/** Canonical text; an IPv4-mapped IPv6 address (how dual-stack sockets report IPv4 peers) as plain IPv4. */
function show(ip: IpAddress): string {
  const mapped = ip.family === 6 && ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
  return formatIpAddress(mapped ? { family: 4, bytes: ip.bytes } : ip);
}

/** TRUSTED_PROXY_CIDRS ("10.0.0.0/8, 192.168.1.5") as CIDRs; malformed entries are dropped. */
export function parseTrustedProxies(text: string): Cidr[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => parseCidr(c))
    .filter((c): c is Cidr => c !== null);
}

/**
 * The client IP of a request, for rate limits and audit alike, from the address of the socket the
 * request arrived on (`peer`, stamped by apps/web/server.mjs) and its X-Forwarded-For chain.
 *
 * - The peer is the last hop and the only address nobody but the kernel wrote. Without it (a request
 *   that did not come through the custom server) the client is unknown: null, never a header's word.
 * - Without trusted proxies the client IS the peer; X-Forwarded-For is ignored, so a client that sends
 *   the header directly cannot choose the address counted and recorded.
 * - With trusted proxies: a peer that is not one of them is the client (its X-Forwarded-For is its own
 *   claim and is not read). A trusted peer's chain is walked leftwards past every trusted proxy; the
 *   first address that is not one is the client. Entries left of it were written by the client and are
 *   ignored. A chain of only proxies, or a malformed hop where the walk needs it, gives null.
 *
 * The same rule Better Auth applies to its rate-limit header, so the address counted and the address
 * recorded agree.
 */
export function clientIpFromPeer(
  request: { peer: string | null | undefined; forwardedFor: string | null | undefined },
  trustedProxies: readonly Cidr[],
): string | null {
  const peer = parseIpAddress(request.peer ?? '');
  if (!peer) return null;
  const trusted = (ip: IpAddress) => trustedProxies.some((c) => cidrContains(c, ip));
  if (!trusted(peer)) return show(peer);
  const hops = (request.forwardedFor ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = parseIpAddress(hops[i]!);
    if (!ip) return null;
    if (trusted(ip)) continue;
    return show(ip);
  }
  return null;
}
