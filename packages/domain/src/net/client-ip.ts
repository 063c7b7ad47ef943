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
 * The client IP of a request from its X-Forwarded-For chain, for rate limits and audit alike.
 *
 * - With trusted proxies: walk the chain from the right (the hop our own proxy appended) past every
 *   trusted proxy; the first address that is not one is the client. Entries left of it were written
 *   by the client and are ignored, so a client cannot choose its address by sending the header.
 * - Without trusted proxies: only a single entry is taken (the one the web server filled in from the
 *   socket); a chain cannot be resolved without knowing which hops to trust.
 * - A malformed hop where the walk needs it gives null (unknown), never a guess.
 *
 * The same rule Better Auth applies to its rate-limit header, so the address counted and the address
 * recorded agree.
 */
export function clientIpFromForwardedFor(forwardedFor: string | null | undefined, trustedProxies: readonly Cidr[]): string | null {
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (hops.length === 0) return null;
  if (trustedProxies.length === 0) {
    if (hops.length !== 1) return null;
    const only = parseIpAddress(hops[0]!);
    return only ? show(only) : null;
  }
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = parseIpAddress(hops[i]!);
    if (!ip) return null;
    if (trustedProxies.some((c) => cidrContains(c, ip))) continue;
    return show(ip);
  }
  return null;
}
