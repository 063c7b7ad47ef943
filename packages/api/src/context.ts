import type { TRole } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import type { PasswordHasher } from '@fleetplane/services';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: TRole;
}

export interface ApiDeps {
  prisma: PrismaClient;
  producer: JobProducer;
  hashPassword: PasswordHasher;
}

export interface ApiContext extends ApiDeps {
  user: SessionUser | null;
  ipAddress: string | null;
}
