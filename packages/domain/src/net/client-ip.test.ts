import { describe, expect, it } from 'vitest';
import { clientIpFromPeer, parseTrustedProxies } from './client-ip';

const proxies = parseTrustedProxies('10.0.0.0/8, 192.168.1.5 ,fd00::/8, not-a-cidr');
const ip = (peer: string | null | undefined, forwardedFor?: string | null, trusted = proxies) =>
  clientIpFromPeer({ peer, forwardedFor }, trusted);

describe('parseTrustedProxies', () => {
  it('parses TRUSTED_PROXY_CIDRS, dropping malformed entries', () => {
    expect(proxies.map((c) => c.text)).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
    expect(parseTrustedProxies('')).toEqual([]);
  });
});

describe('clientIpFromPeer without trusted proxies', () => {
  it('is the peer address, whatever X-Forwarded-For says', () => {
    expect(ip('203.0.113.7', null, [])).toBe('203.0.113.7');
    // A direct client spoofing the header: the socket address wins, a single entry or a chain alike.
    expect(ip('203.0.113.7', '1.2.3.4', [])).toBe('203.0.113.7');
    expect(ip('203.0.113.7', '1.2.3.4, 5.6.7.8', [])).toBe('203.0.113.7');
    expect(ip('203.0.113.7', 'garbage', [])).toBe('203.0.113.7');
    expect(ip('::1', '1.2.3.4', [])).toBe('::1');
  });

  it('shows an IPv4-mapped peer (a dual-stack socket) as IPv4', () => {
    expect(ip('::ffff:127.0.0.1', null, [])).toBe('127.0.0.1');
    expect(ip('2001:db8::7', null, [])).toBe('2001:db8::7');
  });

  it('is null without a usable peer, never the header instead', () => {
    expect(ip(null, '1.2.3.4', [])).toBeNull();
    expect(ip(undefined, '1.2.3.4', [])).toBeNull();
    expect(ip('', '1.2.3.4', [])).toBeNull();
    expect(ip('unknown', '1.2.3.4', [])).toBeNull();
  });
});

describe('clientIpFromPeer with trusted proxies', () => {
  it('walks X-Forwarded-For leftwards from a trusted peer to the first untrusted hop', () => {
    // The client claims 1.1.1.1; our proxy 10.0.0.2 appended the real peer 203.0.113.7 and connected to us.
    expect(ip('10.0.0.2', '1.1.1.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(ip('10.0.0.2', '203.0.113.7')).toBe('203.0.113.7');
    // Two trusted proxies in a row.
    expect(ip('10.0.0.2', '1.1.1.1, 203.0.113.7, 192.168.1.5')).toBe('203.0.113.7');
    expect(ip('fd00::2', '2001:db8::7, fd00::1')).toBe('2001:db8::7');
    expect(ip('10.0.0.2', '::ffff:203.0.113.7')).toBe('203.0.113.7');
    // A trusted proxy on a dual-stack socket is reported IPv4-mapped; still trusted.
    expect(ip('::ffff:10.0.0.2', '203.0.113.7')).toBe('203.0.113.7');
  });

  it('does not read X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(ip('203.0.113.9', '1.1.1.1')).toBe('203.0.113.9');
    expect(ip('203.0.113.9', '1.1.1.1, 10.0.0.2')).toBe('203.0.113.9');
    expect(ip('::ffff:203.0.113.9', 'garbage')).toBe('203.0.113.9');
  });

  it('gives null when the chain is only proxies, empty, or malformed where it matters', () => {
    expect(ip('10.0.0.2', '10.0.0.1, 10.0.0.3')).toBeNull();
    expect(ip('10.0.0.2', '')).toBeNull();
    expect(ip('10.0.0.2', null)).toBeNull();
    expect(ip('10.0.0.2', '1.1.1.1, garbage')).toBeNull();
    expect(ip(null, '203.0.113.7')).toBeNull();
    // A malformed hop left of the client is never looked at.
    expect(ip('10.0.0.2', 'garbage, 203.0.113.7')).toBe('203.0.113.7');
  });
});
