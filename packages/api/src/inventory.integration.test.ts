// Behaviour of inventory and user administration through the real API over a real database:
// refusals change nothing, audit records carry before/after, guards hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, randomGpuUuid, uniqueName, type Harness } from './testing/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

async function siteId() {
  return (await h.caller(h.users.operator).sites.create({ name: uniqueName('site'), region: 'eu-west', dataResidency: 'eu' })).id;
}

describe('inventory', () => {
  it('refuses to delete a cluster that still has nodes, and changes nothing', async () => {
    const op = h.caller(h.users.operator);
    const c = await op.clusters.create({
      name: uniqueName('c'),
      siteId: await siteId(),
      servingEngine: 'sglang',
      engineVersion: '0.5.4',
      maxContextTokens: 131072,
      gpuHourlyCostUsd: 3.5,
    });
    await op.nodes.create({ clusterId: c.id, hostname: 'h200-a' });
    const auditBefore = await h.prisma.auditEvent.count();
    await expect(op.clusters.delete({ id: c.id })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('still has 1 node'),
    });
    expect(await h.prisma.cluster.count({ where: { id: c.id } })).toBe(1);
    expect(await h.prisma.auditEvent.count()).toBe(auditBefore);
  });

  it('records before and after of an update in the audit log, with the caller as actor', async () => {
    const op = h.caller(h.users.operator);
    const site = await siteId();
    const c = await op.clusters.create({
      name: uniqueName('c'),
      siteId: site,
      servingEngine: 'vllm',
      engineVersion: '0.11.1',
      maxContextTokens: 131072,
      gpuHourlyCostUsd: 2,
    });
    await op.clusters.update({
      id: c.id,
      data: {
        name: c.name,
        siteId: site,
        servingEngine: 'vllm',
        engineVersion: '0.11.2',
        maxContextTokens: 262144,
        gpuHourlyCostUsd: 2.49,
      },
    });
    const event = await h.prisma.auditEvent.findFirstOrThrow({ where: { action: 'cluster.update', targetId: c.id } });
    expect(event.actorId).toBe(h.users.operator.id);
    expect(event.actorLabel).toBe(h.users.operator.email);
    expect(event.before).toMatchObject({ engineVersion: '0.11.1', maxContextTokens: 131072, gpuHourlyCostUsd: 2 });
    expect(event.after).toMatchObject({ engineVersion: '0.11.2', maxContextTokens: 262144, gpuHourlyCostUsd: 2.49 });
  });

  it('lets operators set per-cluster download limits, refuses viewers and nonsense', async () => {
    const op = h.caller(h.users.operator);
    const site = await siteId();
    const base = { siteId: site, servingEngine: 'vllm' as const, engineVersion: '0.11.2', maxContextTokens: 131072, gpuHourlyCostUsd: 2 };
    const c = await op.clusters.create({ name: uniqueName('c'), ...base });
    expect(await op.clusters.get({ id: c.id })).toMatchObject({ downloadConcurrency: null, downloadBandwidthMbps: null });
    await op.clusters.update({ id: c.id, data: { name: c.name, ...base, downloadConcurrency: 2, downloadBandwidthMbps: 800 } });
    expect(await op.clusters.get({ id: c.id })).toMatchObject({ downloadConcurrency: 2, downloadBandwidthMbps: 800 });
    const event = await h.prisma.auditEvent.findFirstOrThrow({ where: { action: 'cluster.update', targetId: c.id } });
    expect(event.after).toMatchObject({ downloadConcurrency: 2, downloadBandwidthMbps: 800 });

    const viewer = h.caller(h.users.viewer);
    await expect(viewer.clusters.update({ id: c.id, data: { name: c.name, ...base, downloadConcurrency: 64 } })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      op.clusters.update({ id: c.id, data: { name: c.name, ...base, downloadConcurrency: 0, downloadBandwidthMbps: -5 } }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await h.prisma.cluster.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({
      downloadConcurrency: 2,
      downloadBandwidthMbps: 800,
    });
  });

  it('rejects bad input with field errors and stores nothing', async () => {
    const op = h.caller(h.users.operator);
    const count = await h.prisma.cluster.count();
    await expect(
      op.clusters.create({
        name: 'Not Valid',
        siteId: await siteId(),
        servingEngine: 'vllm',
        engineVersion: 'x',
        maxContextTokens: 10,
        gpuHourlyCostUsd: 1,
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await h.prisma.cluster.count()).toBe(count);
  });

  it('refuses a duplicate GPU UUID and a taken index on the same node', async () => {
    const op = h.caller(h.users.operator);
    const c = await op.clusters.create({
      name: uniqueName('c'),
      siteId: await siteId(),
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      maxContextTokens: 131072,
      gpuHourlyCostUsd: 2,
    });
    const n = await op.nodes.create({ clusterId: c.id, hostname: 'b200-a' });
    const uuid = randomGpuUuid();
    await op.gpus.create({ nodeId: n.id, uuid, index: 0, model: 'NVIDIA B200', memoryMib: 183359, interconnect: 'nvswitch' });
    await expect(
      op.gpus.create({ nodeId: n.id, uuid, index: 1, model: 'NVIDIA B200', memoryMib: 183359, interconnect: 'nvswitch' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already registered') });
    await expect(
      op.gpus.create({ nodeId: n.id, uuid: randomGpuUuid(), index: 0, model: 'NVIDIA B200', memoryMib: 183359, interconnect: 'nvswitch' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('index 0') });
    // Deleting the node removes its GPU with it, in one transaction.
    await op.nodes.delete({ id: n.id });
    expect(await h.prisma.gpu.count({ where: { uuid } })).toBe(0);
  });

  it('sorts and pages the cluster list on the server', async () => {
    const viewer = h.caller(h.users.viewer);
    const all = await viewer.clusters.list({ page: 1, pageSize: 200, sortBy: 'name', sortDir: 'asc' });
    const names = all.items.map((c) => c.name);
    expect(names).toEqual([...names].sort());
    const page2 = await viewer.clusters.list({ page: 2, pageSize: 2, sortBy: 'name', sortDir: 'asc' });
    expect(page2.items.map((c) => c.name)).toEqual(names.slice(2, 4));
    expect(page2.total).toBe(all.total);
  });
});

describe('user administration', () => {
  it('changes a role, revokes that user’s sessions, and audits it', async () => {
    const admin = h.caller(h.users.admin);
    const u = await admin.users.create({
      email: `${uniqueName('u')}@t.local`,
      name: 'U',
      role: 'viewer',
      password: 'a-long-enough-password',
    });
    await h.prisma.session.create({
      data: { id: uniqueName('s'), token: uniqueName('t'), userId: u.id, expiresAt: new Date(Date.now() + 3_600_000) },
    });
    await admin.users.setRole({ userId: u.id, role: 'approver' });
    expect((await h.prisma.user.findUniqueOrThrow({ where: { id: u.id } })).role).toBe('approver');
    expect(await h.prisma.session.count({ where: { userId: u.id } })).toBe(0);
    const event = await h.prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.set_role', targetId: u.id } });
    expect(event.before).toEqual({ role: 'viewer' });
    expect(event.after).toEqual({ role: 'approver' });
  });

  it('never writes the password or its hash into the audit log', async () => {
    const admin = h.caller(h.users.admin);
    const u = await admin.users.create({
      email: `${uniqueName('p')}@t.local`,
      name: 'P',
      role: 'viewer',
      password: 'super-secret-passphrase',
    });
    const event = await h.prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.create', targetId: u.id } });
    expect(JSON.stringify(event)).not.toMatch(/super-secret|scrypt|\$/);
  });

  it('refuses to let an admin disable themselves', async () => {
    await expect(h.caller(h.users.admin).users.setDisabled({ userId: h.users.admin.id, disabled: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
