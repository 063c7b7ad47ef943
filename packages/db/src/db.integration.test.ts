import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient } from './client';
import { AuditRepository, toAuditJson } from './repositories/audit.repository';
import { pingDatabase } from './ping.sql';
import { createTestDatabase } from './testing';

const prisma = createPrismaClient(inject('databaseUrl'));
afterAll(() => prisma.$disconnect());

describe('toAuditJson', () => {
  it('turns Decimal, BigInt and Date into plain JSON values', async () => {
    const site = await prisma.site.create({ data: { name: 's-json', region: 'r', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: 'c-json', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2', gpuHourlyCostUsd: 2.49 },
    });
    const json = toAuditJson({ ...cluster, size: 862_000_000_000n }) as Record<string, unknown>;
    expect(json.gpuHourlyCostUsd).toBe(2.49);
    expect(json.size).toBe('862000000000');
    expect(json.createdAt).toBe(cluster.createdAt.toISOString());
  });
});

describe('repositories', () => {
  it('pings the database', async () => {
    await expect(pingDatabase(prisma)).resolves.toBeUndefined();
  });

  it('records audit events with denormalised actor labels', async () => {
    const repo = new AuditRepository(prisma);
    await repo.record(
      { type: 'system', id: null, label: 'system' },
      { action: 'probe.run', targetType: 'probe', targetId: 'p1', after: { ok: true } },
    );
    const { items } = await repo.list({ action: 'probe.' }, { skip: 0, take: 5, sortBy: 'occurredAt', sortDir: 'desc' });
    expect(items[0]).toMatchObject({ actorType: 'system', actorLabel: 'system', action: 'probe.run', after: { ok: true } });
  });
});

describe('createTestDatabase', () => {
  it('gives each caller its own migrated database', async () => {
    const a = await createTestDatabase('fp_iso');
    const b = await createTestDatabase('fp_iso');
    try {
      expect(a.url).not.toBe(b.url);
      const pa = createPrismaClient(a.url);
      const pb = createPrismaClient(b.url);
      await pa.site.create({ data: { name: 'only-in-a', region: 'r', dataResidency: 'eu' } });
      expect(await pb.site.count()).toBe(0);
      await pa.$disconnect();
      await pb.$disconnect();
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});
