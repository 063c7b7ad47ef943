import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { decideConnection, type NetworkPolicy } from '@fleetplane/domain/net/network-policy';
import { formatIpAddress, parseIpAddress } from '@fleetplane/domain/net/ip-address';

/**
 * The IO half of the network policy: every connection the control plane opens on an operator's word
 * (Hub, validation endpoint, alert webhook) resolves its host name HERE, checks every address it got
 * against the policy, and connects to exactly the addresses it checked. Node's socket layer calls the
 * lookup below at connect time, so there is no second resolution an attacker's DNS could answer
 * differently (no rebinding gap), and each redirect hop is a new connection that is checked again.
 */

export const NETWORK_POLICY_ERROR_CODE = 'ENETPOLICY';

/** A connection the network policy refused. Never retried: the answer would be the same. */
export class NetworkPolicyError extends Error {
  override readonly name = 'NetworkPolicyError';
  readonly code = NETWORK_POLICY_ERROR_CODE;
  constructor(
    message: string,
    readonly host: string,
    readonly address: string | null,
    readonly port: number,
  ) {
    super(message);
  }
}

/** True for a NetworkPolicyError, also when wrapped as the `cause` of another error (fetch does that). */
export function isNetworkPolicyError(err: unknown): err is NetworkPolicyError {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NetworkPolicyError || (e as { code?: unknown }).code === NETWORK_POLICY_ERROR_CODE) return true;
  }
  return false;
}

/** The NetworkPolicyError inside `err`, if any. */
export function findNetworkPolicyError(err: unknown): NetworkPolicyError | null {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NetworkPolicyError) return e;
  }
  return null;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (the system resolver, as Node's sockets use by default). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface GuardOptions {
  policy: NetworkPolicy;
  /** Tests swap the resolver to return addresses that must never be dialled. */
  resolve?: Resolver;
}

/** Throws NetworkPolicyError unless every address may be connected to on `port`. */
export function assertAddressesAllowed(host: string, addresses: readonly ResolvedAddress[], port: number, policy: NetworkPolicy): void {
  if (addresses.length === 0) throw Object.assign(new Error(`${host} did not resolve to any address`), { code: 'ENOTFOUND' });
  for (const a of addresses) {
    const decision = decideConnection(a.address, port, policy);
    if (!decision.allowed) {
      const named = parseIpAddress(host) ? '' : ` (${host})`;
      throw new NetworkPolicyError(`${decision.reason}${named}`, host, a.address, port);
    }
  }
}

/**
 * A host given as an IP literal is never passed to `lookup` by node:net, so it is checked here before
 * the request is made. Host names are checked by the lookup at connect time.
 */
export function assertHostLiteralAllowed(hostname: string, port: number, policy: NetworkPolicy): void {
  const ip = parseIpAddress(hostname);
  if (!ip) return;
  assertAddressesAllowed(hostname, [{ address: formatIpAddress(ip), family: ip.family }], port, policy);
}

/**
 * A `lookup` for net.connect / tls.connect / http.request: resolves, refuses the whole name if any
 * address is refused (so a mixed answer cannot be raced), and hands the checked addresses to the
 * socket, which connects to one of them.
 */
export function policyLookup(port: number, options: GuardOptions): LookupFunction {
  const resolve = options.resolve ?? systemResolver;
  return ((
    hostname: string,
    lookupOptions: dns.LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname).then(
      (all) => {
        try {
          assertAddressesAllowed(hostname, all, port, options.policy);
        } catch (err) {
          callback(err as NodeJS.ErrnoException, '', 0);
          return;
        }
        const wanted =
          lookupOptions.family === 4 || lookupOptions.family === 6 ? all.filter((a) => a.family === lookupOptions.family) : all;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${lookupOptions.family} address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        if (lookupOptions.all)
          callback(
            null,
            wanted.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  }) as LookupFunction;
}

export function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Hostname without IPv6 brackets, as node:net wants it. */
export function socketHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Connection options for one URL under the policy: checks an IP-literal host at once and returns the
 * `lookup` that checks a host name at connect time. Spread into net/tls/http(s) options.
 */
export function guardedConnection(url: URL, options: GuardOptions): { host: string; port: number; lookup: LookupFunction } {
  const host = socketHost(url);
  const port = defaultPort(url);
  assertHostLiteralAllowed(host, port, options.policy);
  return { host, port, lookup: policyLookup(port, options) };
}
