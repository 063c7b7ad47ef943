// `npm run db:migrate` | `npm run db:migration -- <name>` | `npm run db:drift`
import { applyMigrations, createMigration, diffSchemaAgainstMigrations, redact } from './index.ts';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/fleetplane';

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  switch (command) {
    case 'migrate': {
      const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
      const applied = await applyMigrations(url);
      console.log(
        applied.length
          ? `Applied ${applied.length} migration(s) to ${redact(url)}:\n  ${applied.join('\n  ')}`
          : `Database ${redact(url)} is up to date.`,
      );
      return 0;
    }
    case 'create': {
      const name = args[0];
      if (!name) {
        console.error('Usage: npm run db:migration -- <snake_case_name>');
        return 2;
      }
      const dir = await createMigration(name);
      console.log(dir ? `Created ${dir}` : 'schema.prisma and prisma/migrations already agree: no migration created.');
      return 0;
    }
    case 'drift': {
      const sql = await diffSchemaAgainstMigrations();
      if (!sql) {
        console.log('No drift: prisma/migrations matches prisma/schema.prisma.');
        return 0;
      }
      console.error(`Drift: schema.prisma has changes no migration covers. Run npm run db:migration -- <name>.\n${sql}`);
      return 1;
    }
    default:
      console.error('Usage: cli.ts migrate | create <name> | drift');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
