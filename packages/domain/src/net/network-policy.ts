import { cidrContains, embeddedIpv4, formatIpAddress, parseCidr, parseIpAddress, type Cidr, type IpAddress } from './ip-address';

/**
 * Which addresses the control plane may connect to when it fetches something an operator pointed it
 * at (a Hub URL, a validation endpoint, an alert webhook). The decision is taken on each resolved
 * address right before connecting (see @fleetplane/net), so a name that resolves somewhere else on the
 * second lookup gains nothing.
 *
 * - Link-local and cloud-metadata addresses are always refused: they hand out credentials of the host
 *   the control plane runs on, and no Hub, inference endpoint or webhook legitimately lives there.
 *   The unspecified address (0.0.0.0, ::) is refused too: Linux connects it to the host itself.
 * - Loopback and the control plane's own Postgres and Redis are refused unless an admin allows them
 *   (the demo and tests run their Hub, endpoints and webhooks on loopback).
 * - Everything else (private ranges included: inference endpoints live on them) is allowed.
 */

export type AddressClass = 'loopback' | 'link_local' | 'cloud_metadata' | 'unspecified' | 'multicast' | 'internal_service' | 'other';

export interface InternalService {
  /** What it is, for messages: "Postgres", "Redis". */
  name: string;
  /** A resolved address (text) of the service. */
  address: string;
  port: number;
}

export interface NetworkPolicy {
  /** Admin setting: loopback and the control plane's own services may be reached. */
  allowLoopback: boolean;
  /** The control plane's own Postgres and Redis (resolved addresses and ports). */
  internalServices: readonly InternalService[];
}

/** The strictest policy: what applies when no setting says otherwise. */
export const STRICT_NETWORK_POLICY: NetworkPolicy = Object.freeze({
  allowLoopback: false,
  internalServices: Object.freeze([]) as readonly InternalService[],
});

export type NetworkDecision =
  { allowed: true; addressClass: AddressClass } | { allowed: false; addressClass: AddressClass; reason: string };

const cidrs = (...list: string[]): Cidr[] => list.map((c) => parseCidr(c)!);

const LOOPBACK = cidrs('127.0.0.0/8', '::1/128');
const LINK_LOCAL = cidrs('169.254.0.0/16', 'fe80::/10');
const UNSPECIFIED = cidrs('0.0.0.0/8', '::/128');
const MULTICAST = cidrs('224.0.0.0/4', '255.255.255.255/32', 'ff00::/8');
/**
 * Instance-metadata services outside the link-local ranges: AWS's IPv6 IMDS, Alibaba Cloud, Azure's
 * WireServer, Oracle Cloud Classic. (AWS, GCP, Azure IMDS, OCI, DigitalOcean, OpenStack and ECS task
 * metadata all sit in 169.254.0.0/16, which is refused as link-local.)
 */
const CLOUD_METADATA = cidrs('fd00:ec2::254/128', '100.100.100.200/32', '168.63.129.16/32', '192.0.0.192/32');

const inAny = (list: Cidr[], ip: IpAddress) => list.some((c) => cidrContains(c, ip));

function classifyOne(ip: IpAddress): AddressClass {
  if (inAny(CLOUD_METADATA, ip)) return 'cloud_metadata';
  if (inAny(LINK_LOCAL, ip)) return 'link_local';
  if (inAny(UNSPECIFIED, ip)) return 'unspecified';
  if (inAny(LOOPBACK, ip)) return 'loopback';
  if (inAny(MULTICAST, ip)) return 'multicast';
  return 'other';
}

/**
 * The class of an address. An IPv6 address that carries an IPv4 one (mapped ::ffff:a.b.c.d,
 * compatible, NAT64, 6to4) is judged by the stricter of the two, so ::ffff:169.254.169.254 is
 * link-local and 64:ff9b::7f00:1 is loopback.
 */
export function classifyAddress(ip: IpAddress): AddressClass {
  const own = classifyOne(ip);
  const inner = embeddedIpv4(ip);
  if (!inner) return own;
  const carried = classifyOne(inner);
  return SEVERITY[carried] > SEVERITY[own] ? carried : own;
}

const SEVERITY: Record<AddressClass, number> = {
  other: 0,
  internal_service: 1,
  loopback: 2,
  multicast: 3,
  unspecified: 4,
  link_local: 5,
  cloud_metadata: 6,
};

const ALWAYS_REFUSED: ReadonlySet<AddressClass> = new Set(['link_local', 'cloud_metadata', 'unspecified', 'multicast']);

const EXPLAIN: Record<AddressClass, string> = {
  cloud_metadata: 'a cloud instance-metadata address',
  link_local: 'a link-local address (where cloud metadata services live)',
  unspecified: 'the unspecified address (it reaches this host)',
  multicast: 'a multicast or broadcast address',
  loopback: 'a loopback address, and loopback is not allowed (Admin › Settings › Network policy)',
  internal_service: "the control plane's own",
  other: '',
};

/** The message every caller shows: it names the address and the rule, never what (if anything) answers there. */
export const NETWORK_POLICY_REFUSAL = 'refused by network policy';

function sameAddress(a: string, b: IpAddress): boolean {
  const pa = parseIpAddress(a);
  if (!pa) return false;
  const ua = embeddedIpv4(pa) ?? pa;
  const ub = embeddedIpv4(b) ?? b;
  return ua.bytes.every((x, i) => x === ub.bytes[i]);
}

/** May the control plane open a connection to `address`:`port` under `policy`? */
export function decideConnection(address: string, port: number, policy: NetworkPolicy): NetworkDecision {
  const ip = parseIpAddress(address);
  if (!ip) return { allowed: false, addressClass: 'other', reason: `${NETWORK_POLICY_REFUSAL}: "${address}" is not an IP address` };
  const shown = formatIpAddress(ip);
  const addressClass = classifyAddress(ip);
  if (ALWAYS_REFUSED.has(addressClass))
    return { allowed: false, addressClass, reason: `${NETWORK_POLICY_REFUSAL}: ${shown} is ${EXPLAIN[addressClass]}` };
  if (addressClass === 'loopback' && !policy.allowLoopback)
    return { allowed: false, addressClass, reason: `${NETWORK_POLICY_REFUSAL}: ${shown} is ${EXPLAIN.loopback}` };
  const own = policy.internalServices.find((s) => s.port === port && sameAddress(s.address, ip));
  if (own && !policy.allowLoopback) {
    return {
      allowed: false,
      addressClass: 'internal_service',
      reason: `${NETWORK_POLICY_REFUSAL}: ${shown}:${port} is the control plane's own ${own.name}, which is not allowed (Admin › Settings › Network policy)`,
    };
  }
  return { allowed: true, addressClass: own ? 'internal_service' : addressClass };
}
