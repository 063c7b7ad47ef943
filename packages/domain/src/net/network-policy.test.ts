import { describe, expect, it } from 'vitest';
import { cidrContains, embeddedIpv4, formatIpAddress, parseCidr, parseIpAddress } from './ip-address';
import { classifyAddress, decideConnection, STRICT_NETWORK_POLICY, type NetworkPolicy } from './network-policy';

const ip = (s: string) => {
  const parsed = parseIpAddress(s);
  if (!parsed) throw new Error(`unparseable ${s}`);
  return parsed;
};
const cls = (s: string) => classifyAddress(ip(s));
const contains = (cidr: string, addr: string) => cidrContains(parseCidr(cidr)!, ip(addr));

describe('parseIpAddress', () => {
  it('parses dotted IPv4 strictly', () => {
    expect(formatIpAddress(ip('10.0.0.5'))).toBe('10.0.0.5');
    expect(ip('255.255.255.255').family).toBe(4);
    for (const bad of [
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '0x7f.0.0.1',
      '0177.0.0.1',
      '127.1',
      '1.2.3.-1',
      '',
      ' ',
      'localhost',
      '1..2.3',
    ]) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('parses IPv6 forms: compressed, full, brackets, zone ids, dotted tails', () => {
    expect(formatIpAddress(ip('::1'))).toBe('::1');
    expect(formatIpAddress(ip('::'))).toBe('::');
    expect(formatIpAddress(ip('2001:0db8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(formatIpAddress(ip('[fe80::1]'))).toBe('fe80::1');
    expect(formatIpAddress(ip('fe80::1%eth0'))).toBe('fe80::1');
    expect(formatIpAddress(ip('::ffff:169.254.169.254'))).toBe('::ffff:a9fe:a9fe');
    expect(formatIpAddress(ip('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(ip('FD00:EC2::254').family).toBe(6);
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      '12345::',
      'g::1',
      '::ffff:1.2.3.256',
      '1:2:3:4:5:6:7::8:9',
      '1:2:3:4:5:6:7:8::',
    ]) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });
});

describe('CIDR matching', () => {
  it('includes both ends of a range and nothing outside it', () => {
    expect(contains('169.254.0.0/16', '169.254.0.0')).toBe(true);
    expect(contains('169.254.0.0/16', '169.254.255.255')).toBe(true);
    expect(contains('169.254.0.0/16', '169.253.255.255')).toBe(false);
    expect(contains('169.254.0.0/16', '169.255.0.0')).toBe(false);
    expect(contains('10.1.2.3/32', '10.1.2.3')).toBe(true);
    expect(contains('10.1.2.3/32', '10.1.2.4')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('fe80::/10', 'febf:ffff::1')).toBe(true);
    expect(contains('fe80::/10', 'fec0::1')).toBe(false);
    expect(contains('fe80::/10', 'fe7f:ffff::1')).toBe(false);
  });

  it('keeps the families apart except through the mapped form', () => {
    expect(contains('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(contains('10.0.0.0/8', '::ffff:10.9.8.7')).toBe(true);
  });

  it('refuses malformed CIDRs', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'nope/8']) expect(parseCidr(bad), bad).toBeNull();
  });
});

describe('embeddedIpv4', () => {
  it('finds the IPv4 address in mapped, translated, compatible, NAT64 and 6to4 forms', () => {
    for (const [v6, v4] of [
      ['::ffff:169.254.169.254', '169.254.169.254'],
      ['::ffff:0:127.0.0.1', '127.0.0.1'],
      ['::127.0.0.1', '127.0.0.1'],
      ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
      ['64:ff9b:1::7f00:1', '127.0.0.1'],
      ['2002:a9fe:a9fe::1', '169.254.169.254'],
    ] as const) {
      const inner = embeddedIpv4(ip(v6));
      expect(inner && formatIpAddress(inner), v6).toBe(v4);
    }
  });

  it('does not read :: or ::1 as IPv4-compatible', () => {
    expect(embeddedIpv4(ip('::'))).toBeNull();
    expect(embeddedIpv4(ip('::1'))).toBeNull();
    expect(embeddedIpv4(ip('2001:db8::1'))).toBeNull();
  });
});

describe('classifyAddress', () => {
  it('classifies link-local and cloud metadata, in every spelling', () => {
    for (const a of [
      '169.254.169.254',
      '169.254.0.1',
      '169.254.170.2',
      'fe80::1',
      'febf::1',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::',
    ]) {
      expect(cls(a), a).toBe('link_local');
    }
    for (const a of [
      'fd00:ec2::254',
      '100.100.100.200',
      '168.63.129.16',
      '192.0.0.192',
      '::ffff:100.100.100.200',
      '::ffff:168.63.129.16',
    ]) {
      expect(cls(a), a).toBe('cloud_metadata');
    }
  });

  it('classifies loopback, unspecified and multicast', () => {
    for (const a of ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::127.0.0.2']) expect(cls(a), a).toBe('loopback');
    for (const a of ['0.0.0.0', '0.1.2.3', '::', '::ffff:0.0.0.0']) expect(cls(a), a).toBe('unspecified');
    for (const a of ['224.0.0.1', '239.255.255.255', '255.255.255.255', 'ff02::1']) expect(cls(a), a).toBe('multicast');
  });

  it('leaves ordinary public and private addresses alone', () => {
    for (const a of [
      '10.0.0.5',
      '192.168.1.1',
      '172.16.0.1',
      '100.100.100.199',
      '100.100.100.201',
      '169.253.1.1',
      '8.8.8.8',
      '2001:db8::1',
      'fd00:ec2::253',
      'fc00::1',
      '128.0.0.1',
      '126.255.255.255',
    ]) {
      expect(cls(a), a).toBe('other');
    }
  });
});

describe('decideConnection', () => {
  const allowing: NetworkPolicy = { allowLoopback: true, internalServices: [{ name: 'Postgres', address: '10.0.0.9', port: 5432 }] };
  const strict: NetworkPolicy = { ...allowing, allowLoopback: false };

  it('always refuses link-local and metadata addresses, even when loopback is allowed', () => {
    for (const a of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '::ffff:169.254.169.254', '0.0.0.0', '::']) {
      const d = decideConnection(a, 80, allowing);
      expect(d.allowed, a).toBe(false);
      if (!d.allowed) expect(d.reason).toMatch(/^refused by network policy: /);
    }
  });

  it('refuses loopback unless the policy allows it', () => {
    expect(decideConnection('127.0.0.1', 8080, STRICT_NETWORK_POLICY)).toMatchObject({ allowed: false, addressClass: 'loopback' });
    expect(decideConnection('::1', 8080, strict)).toMatchObject({ allowed: false, addressClass: 'loopback' });
    expect(decideConnection('::ffff:127.0.0.1', 8080, strict)).toMatchObject({ allowed: false, addressClass: 'loopback' });
    expect(decideConnection('127.0.0.2', 8080, allowing)).toMatchObject({ allowed: true, addressClass: 'loopback' });
  });

  it("refuses the control plane's own Postgres and Redis ports unless allowed, and only those ports", () => {
    const refused = decideConnection('10.0.0.9', 5432, strict);
    expect(refused).toMatchObject({ allowed: false, addressClass: 'internal_service' });
    if (!refused.allowed) expect(refused.reason).toContain("control plane's own Postgres");
    expect(decideConnection('::ffff:10.0.0.9', 5432, strict).allowed).toBe(false);
    expect(decideConnection('10.0.0.9', 8000, strict)).toEqual({ allowed: true, addressClass: 'other' });
    expect(decideConnection('10.0.0.9', 5432, allowing)).toEqual({ allowed: true, addressClass: 'internal_service' });
  });

  it('allows ordinary addresses and refuses non-addresses', () => {
    expect(decideConnection('10.0.0.5', 8000, STRICT_NETWORK_POLICY).allowed).toBe(true);
    expect(decideConnection('2001:db8::1', 443, STRICT_NETWORK_POLICY).allowed).toBe(true);
    expect(decideConnection('example.com', 443, allowing).allowed).toBe(false);
  });
});
