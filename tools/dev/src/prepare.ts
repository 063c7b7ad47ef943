// Brings a database to a usable state: migrated, demo data when empty, and a first admin.
import { hashPassword } from '@fleetplane/auth';
import { applyMigrations } from '@fleetplane/db-tools';
import { createPrismaClient } from '@fleetplane/db';
import { ensureFirstAdmin, syncSuites } from '@fleetplane/services';
import { allowDemoLoopback, seedDemoFleet } from './seed-demo-fleet';
import { seedDemoUsers } from './seed-demo-users';

export interface PrepareResult {
  appliedMigrations: string[];
  seeded: boolean;
  adminCreated: boolean;
}

export async function prepareDatabase(opts: {
  databaseUrl: string;
  demo: boolean;
  adminEmail: string;
  adminPassword: string;
}): Promise<PrepareResult> {
  const appliedMigrations = await applyMigrations(opts.databaseUrl);
  const prisma = createPrismaClient(opts.databaseUrl, { max: 2 });
  try {
    let seeded = false;
    // Seed only an empty database: a user's own inventory is never mixed with demo data.
    if (opts.demo && (await prisma.cluster.count()) === 0 && (await prisma.site.count()) === 0) {
      await seedDemoFleet(prisma);
      await seedDemoUsers(prisma);
      seeded = true;
    }
    // A demo database seeded before the network policy existed gets the demo's loopback allowance too.
    if (opts.demo) await allowDemoLoopback(prisma);
    // Built-in validation suites as versioned rows (the worker does the same when it starts).
    await syncSuites(prisma);
    const admin = await ensureFirstAdmin({ prisma }, opts.adminEmail, opts.adminPassword, hashPassword);
    return { appliedMigrations, seeded, adminCreated: admin.created };
  } finally {
    await prisma.$disconnect();
  }
}
