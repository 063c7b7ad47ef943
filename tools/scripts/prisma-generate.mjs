// Runs `prisma generate` offline. Prisma 7's CLI wants a native schema engine it would download
// from a host these machines cannot reach; generate never needs it, so point it at /bin/false
// (never /bin/true: `migrate` would then report success and apply nothing).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('prisma/schema.prisma')) process.exit(0);
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false';
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
