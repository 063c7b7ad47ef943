/**
 * IP address parsing and CIDR matching without node:net, so the network policy's rules stay pure and
 * can be tested on every edge. Addresses are kept as 16 bytes (IPv4 as its IPv4-mapped IPv6 form,
 * ::ffff:a.b.c.d), so one comparison covers both families.
 */

export interface IpAddress {
  /** The family the text was written in. */
  family: 4 | 6;
  /** 16 bytes; an IPv4 address is stored as ::ffff:a.b.c.d. */
  bytes: Uint8Array;
}

export interface Cidr {
  /** 16 bytes; an IPv4 prefix is stored under ::ffff:0:0/96 (its length plus 96). */
  bytes: Uint8Array;
  prefixLength: number;
  text: string;
}

function parseIpv4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    // Dotted decimal only: no octal (010), hex (0x7f) or shortened (127.1) forms that some resolvers
    // accept, so what we check is unambiguously what the socket layer would connect to.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIpv6Bytes(input: string): number[] | null {
  if (input.length === 0 || input.length > 45) return null;
  let text = input;
  // A dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4Bytes(text.slice(lastColon + 1));
    if (!v4) return null;
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!left || !right) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    if (left.length !== 8) return null;
    groups = left;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

/** Parses an IPv4 (dotted decimal) or IPv6 address; brackets and a zone id (`%eth0`) are accepted and dropped. */
export function parseIpAddress(input: string): IpAddress | null {
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const v4 = parseIpv4Bytes(text);
    return v4 ? { family: 4, bytes: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]) } : null;
  }
  const v6 = parseIpv6Bytes(text);
  return v6 ? { family: 6, bytes: Uint8Array.from(v6) } : null;
}

export function isIpLiteral(text: string): boolean {
  return parseIpAddress(text) !== null;
}

/** `10.0.0.0/8`, `fe80::/10`, or a single address (a /32 or /128). Null when malformed. */
export function parseCidr(input: string): Cidr | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  const ip = parseIpAddress(slash >= 0 ? text.slice(0, slash) : text);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const raw = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(raw)) return null;
    length = Number(raw);
    if (length > max) return null;
  }
  const prefixLength = ip.family === 4 ? length + 96 : length;
  return { bytes: maskBytes(ip.bytes, prefixLength), prefixLength, text };
}

function maskBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  const masked = maskBytes(ip.bytes, cidr.prefixLength);
  for (let i = 0; i < 16; i++) if (masked[i] !== cidr.bytes[i]) return false;
  return true;
}

/** Canonical text: dotted decimal for IPv4 (and IPv4-mapped), RFC 5952 for IPv6. */
export function formatIpAddress(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // Longest run of two or more zero groups becomes "::" (first one on a tie).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64, 6to4), if any. */
export function embeddedIpv4(ip: IpAddress): IpAddress | null {
  if (ip.family === 4) return null;
  const b = ip.bytes;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number): IpAddress => ({
    family: 4,
    bytes: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!]),
  });
  // ::ffff:a.b.c.d (IPv4-mapped) — the kernel connects such a socket to a.b.c.d.
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12);
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765).
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return v4(12);
  // ::a.b.c.d (IPv4-compatible, deprecated but still routed by some stacks); not :: and ::1 themselves.
  if (zeros(0, 12) && !(zeros(12, 15) && (b[15] === 0 || b[15] === 1))) return v4(12);
  // 64:ff9b::/96 (NAT64 well-known prefix) and 64:ff9b:1::/48 (local-use NAT64).
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b[4] === 0x00 && b[5] === 0x01) return v4(12);
  // 2002::/16 (6to4): the relay's IPv4 address follows the prefix.
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}
