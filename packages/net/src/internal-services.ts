import type { InternalService } from '@fleetplane/domain/net/network-policy';
import { systemResolver, type Resolver } from './guarded-connect';

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };

/**
 * The control plane's own Postgres and Redis as addresses and ports (from DATABASE_URL and REDIS_URL),
 * so the policy can refuse an operator-supplied URL that points at them. A name that does not resolve
 * is left out (nothing can connect to it through the policy's lookup either).
 */
export async function resolveInternalServices(
  urls: { name: string; url: string | undefined }[],
  resolve: Resolver = systemResolver,
): Promise<InternalService[]> {
  const out: InternalService[] = [];
  for (const { name, url } of urls) {
    if (!url) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
    const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[parsed.protocol];
    if (!port) continue;
    const addresses = await resolve(host).catch(() => []);
    for (const a of addresses) out.push({ name, address: a.address, port });
  }
  return out;
}
