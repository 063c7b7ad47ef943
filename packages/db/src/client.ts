import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export type { PrismaClient };
export type DbClient = PrismaClient;
/** A Prisma client or the client of an interactive transaction: repositories accept either. */
export type Db = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export function createPrismaClient(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

const globalForPrisma = globalThis as unknown as { __fleetplanePrisma?: { url: string; client: PrismaClient } };

/** One client per process (Next.js dev reloads modules; the pool must survive that). */
export function getPrisma(databaseUrl: string): PrismaClient {
  const cached = globalForPrisma.__fleetplanePrisma;
  if (cached && cached.url === databaseUrl) return cached.client;
  const client = createPrismaClient(databaseUrl);
  globalForPrisma.__fleetplanePrisma = { url: databaseUrl, client };
  return client;
}
