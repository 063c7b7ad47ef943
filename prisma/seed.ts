// `npm run db:seed`: builds the demo fleet and demo users; safe to run again (it only adds what is missing).
import { loadConfig } from '@fleetplane/config';
import { createPrismaClient } from '@fleetplane/db';
import { seedDemoFleet } from '@fleetplane/dev/seed-demo-fleet';
import { DEMO_PASSWORD, DEMO_USERS, seedDemoUsers } from '@fleetplane/dev/seed-demo-users';

async function main() {
  const config = loadConfig();
  const prisma = createPrismaClient(config.DATABASE_URL);
  try {
    const fleet = await seedDemoFleet(prisma);
    const users = await seedDemoUsers(prisma);
    console.log(
      `Seeded ${fleet.clusters} clusters, ${fleet.repos} tracked repos, ${fleet.artifacts} artifacts; ${users} new demo user(s).`,
    );
    console.log(`Demo users (password "${DEMO_PASSWORD}"): ${DEMO_USERS.map((u) => `${u.email} (${u.role})`).join(', ')}`);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
