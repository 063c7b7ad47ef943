import { describe, expect, it } from 'vitest';
import { clientIpFromForwardedFor, parseTrustedProxies } from './client-ip';

const proxies = parseTrustedProxies('10.0.0.0/8, 192.168.1.5 ,fd00::/8, not-a-cidr');

describe('clientIpFromForwardedFor', () => {
  it('parses TRUSTED_PROXY_CIDRS, dropping malformed entries', () => {
    expect(proxies.map((c) => c.text)).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
    expect(parseTrustedProxies('')).toEqual([]);
  });

  it('behind trusted proxies takes the first untrusted hop from the right, ignoring what the client wrote', () => {
    // The client claims 1.1.1.1; our proxy 10.0.0.2 appended the real peer 203.0.113.7.
    expect(clientIpFromForwardedFor('1.1.1.1, 203.0.113.7, 10.0.0.2', proxies)).toBe('203.0.113.7');
    expect(clientIpFromForwardedFor('203.0.113.7', proxies)).toBe('203.0.113.7');
    expect(clientIpFromForwardedFor('198.51.100.1, 192.168.1.5', proxies)).toBe('198.51.100.1');
    expect(clientIpFromForwardedFor('2001:db8::7, fd00::1', proxies)).toBe('2001:db8::7');
    expect(clientIpFromForwardedFor('::ffff:203.0.113.7, 10.1.1.1', proxies)).toBe('203.0.113.7');
  });

  it('gives null when the chain is only proxies, empty, or malformed where it matters', () => {
    expect(clientIpFromForwardedFor('10.0.0.1, 10.0.0.2', proxies)).toBeNull();
    expect(clientIpFromForwardedFor('', proxies)).toBeNull();
    expect(clientIpFromForwardedFor(null, proxies)).toBeNull();
    expect(clientIpFromForwardedFor('1.1.1.1, garbage, 10.0.0.2', proxies)).toBeNull();
    // A malformed hop left of the client is never looked at.
    expect(clientIpFromForwardedFor('garbage, 203.0.113.7, 10.0.0.2', proxies)).toBe('203.0.113.7');
  });

  it('without trusted proxies accepts a single address only', () => {
    expect(clientIpFromForwardedFor('203.0.113.7', [])).toBe('203.0.113.7');
    expect(clientIpFromForwardedFor(' ::1 ', [])).toBe('::1');
    expect(clientIpFromForwardedFor('1.1.1.1, 203.0.113.7', [])).toBeNull();
    expect(clientIpFromForwardedFor('unknown', [])).toBeNull();
  });
});
