// Prisma 7 configuration. The datasource URL is only needed by the Prisma CLI where it can
// download its native engine; offline, `npm run db:migrate` drives the WebAssembly engine instead.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'tsx prisma/seed.ts',
  },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fleetplane',
  },
});
