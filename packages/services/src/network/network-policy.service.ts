import {
  ZNetworkPolicySetting,
  ZUpdateNetworkPolicyInput,
  type TNetworkPolicySetting,
  type TUpdateNetworkPolicyInput,
} from '@fleetplane/contracts';
import { loadConfig } from '@fleetplane/config';
import type { PrismaClient } from '@fleetplane/db';
import { resolveInternalServices, STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import { withAudit, type ServiceContext } from '../context';

/** Setting key of the outgoing-request network policy (see ZNetworkPolicySetting). */
export const NETWORK_POLICY_SETTING_KEY = 'network_policy';

const DEFAULT_SETTING: TNetworkPolicySetting = { allowLoopback: STRICT_NETWORK_POLICY.allowLoopback };

function parseSetting(value: unknown): TNetworkPolicySetting {
  // An unreadable stored value falls back to the strict default rather than opening anything up.
  const parsed = ZNetworkPolicySetting.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_SETTING;
}

export async function getNetworkPolicySetting(ctx: Pick<ServiceContext, 'prisma'>) {
  const row = await ctx.prisma.setting.findUnique({ where: { key: NETWORK_POLICY_SETTING_KEY } });
  return { ...parseSetting(row?.value), updatedAt: row?.updatedAt ?? null, updatedById: row?.updatedById ?? null };
}

/** Admin-only (see the API): changes the setting and records who did it, in one transaction. */
export async function updateNetworkPolicySetting(ctx: ServiceContext, input: TUpdateNetworkPolicyInput) {
  const data = ZUpdateNetworkPolicyInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.setting.findUnique({ where: { key: NETWORK_POLICY_SETTING_KEY } });
    const row = await tx.setting.upsert({
      where: { key: NETWORK_POLICY_SETTING_KEY },
      create: { key: NETWORK_POLICY_SETTING_KEY, value: data, updatedById: ctx.actor.type === 'user' ? ctx.actor.id : null },
      update: { value: data, updatedById: ctx.actor.type === 'user' ? ctx.actor.id : null },
    });
    await audit({
      action: 'setting.network_policy.update',
      targetType: 'setting',
      targetId: NETWORK_POLICY_SETTING_KEY,
      before: before ? parseSetting(before.value) : DEFAULT_SETTING,
      after: data,
    });
    return { ...data, updatedAt: row.updatedAt, updatedById: row.updatedById };
  });
}

export interface LoadNetworkPolicyOptions {
  env?: Record<string, string | undefined>;
  /** Resolver for DATABASE_URL / REDIS_URL host names (tests). */
  resolve?: Resolver;
}

/**
 * The policy outgoing requests run under right now: the admin setting, plus the control plane's own
 * Postgres and Redis (from DATABASE_URL and REDIS_URL) so they are refused like loopback unless allowed.
 * Read per use, so an admin's change applies to the next check, download, validation or webhook.
 */
export async function loadNetworkPolicy(prisma: PrismaClient, options: LoadNetworkPolicyOptions = {}): Promise<NetworkPolicy> {
  const config = loadConfig(options.env ?? process.env);
  const { allowLoopback } = await getNetworkPolicySetting({ prisma });
  const internalServices = await resolveInternalServices(
    [
      { name: 'Postgres', url: config.DATABASE_URL },
      { name: 'Redis', url: config.REDIS_URL },
    ],
    options.resolve,
  );
  return { allowLoopback, internalServices };
}
