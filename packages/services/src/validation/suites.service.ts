import { ZValidationSuite, type TValidationSuite } from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import { canonicalJson } from '@fleetplane/domain';
import { BUILTIN_SUITES } from '@fleetplane/validation';
import type { ServiceContext } from '../context';
import { isUniqueViolation, notFound } from '../errors';

const definitionOf = (s: Pick<TValidationSuite, 'description' | 'checks'>) =>
  canonicalJson({ description: s.description, checks: s.checks });

/**
 * Stores suites as versioned rows. An unchanged definition is a no-op; a changed one becomes a new
 * version (never an in-place edit), so finished runs keep pointing at the definition they ran.
 */
export async function syncSuites(prisma: PrismaClient, suites: readonly TValidationSuite[] = BUILTIN_SUITES) {
  const out: { name: string; version: number; created: boolean }[] = [];
  for (const input of suites) {
    const suite = ZValidationSuite.parse(input);
    for (let attempt = 0; ; attempt++) {
      const latest = await prisma.validationSuite.findFirst({ where: { name: suite.name }, orderBy: { version: 'desc' } });
      if (
        latest &&
        definitionOf({ description: latest.description, checks: ZValidationSuite.parse({ ...latest, checks: latest.checks }).checks }) ===
          definitionOf(suite)
      ) {
        out.push({ name: suite.name, version: latest.version, created: false });
        break;
      }
      const version = latest ? Math.max(latest.version + 1, suite.version) : suite.version;
      try {
        await prisma.validationSuite.create({
          data: { name: suite.name, version, description: suite.description, checks: suite.checks as object[] },
        });
        out.push({ name: suite.name, version, created: true });
        break;
      } catch (e) {
        // Another worker stored the same version first: look again.
        if (!isUniqueViolation(e) || attempt >= 3) throw e;
      }
    }
  }
  return out;
}

/** The newest version of every suite, with its checks in run order. */
export async function listSuites(ctx: Pick<ServiceContext, 'prisma'>) {
  const rows = await ctx.prisma.validationSuite.findMany({ orderBy: [{ name: 'asc' }, { version: 'desc' }] });
  const latest = rows.filter((r, i) => i === 0 || rows[i - 1]!.name !== r.name);
  return latest.map((r) => {
    const suite = parseStoredSuite(r);
    return {
      id: r.id,
      name: r.name,
      version: r.version,
      description: r.description,
      checks: suite.checks.map((c) => ({ key: c.key, kind: c.kind, title: c.title ?? c.key, required: c.required })),
    };
  });
}

export function parseStoredSuite(row: { name: string; version: number; description: string; checks: unknown }): TValidationSuite {
  return ZValidationSuite.parse({ name: row.name, version: row.version, description: row.description, checks: row.checks });
}

export async function latestSuite(prisma: Db, name: string) {
  const row = await prisma.validationSuite.findFirst({ where: { name }, orderBy: { version: 'desc' } });
  if (!row) throw notFound(`Validation suite "${name}"`);
  return row;
}
