import type { PrismaClient } from '@fleetplane/db';
import { NETWORK_POLICY_SETTING_KEY } from './network-policy.service';

/**
 * Tests run their Hub, endpoints and webhook receivers on loopback, which the network policy refuses
 * unless the admin setting allows it: this writes that setting into the test run's database (as the
 * demo's seed does), without an audit actor.
 */
export async function allowLoopbackForTests(prisma: PrismaClient, allowLoopback = true): Promise<void> {
  await prisma.setting.upsert({
    where: { key: NETWORK_POLICY_SETTING_KEY },
    create: { key: NETWORK_POLICY_SETTING_KEY, value: { allowLoopback } },
    update: { value: { allowLoopback } },
  });
}
