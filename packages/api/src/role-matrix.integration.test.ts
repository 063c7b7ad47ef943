// Proves the role matrix for EVERY procedure of the app router: unauthenticated -> UNAUTHORIZED,
// a role below the procedure's minimum -> FORBIDDEN, its minimum role and above -> success; and every
// successful mutation leaves an audit event naming its caller. A procedure added without an entry in
// SAMPLE_INPUTS fails this test, so the matrix cannot silently fall behind the router.
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type TRole } from '@fleetplane/contracts';
import { roleAtLeast } from '@fleetplane/domain';
import { appRouter } from './root';
import { createHarness, randomGpuUuid, uniqueName, type Harness } from './testing/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

async function site() {
  return h.prisma.site.create({ data: { name: uniqueName('site'), region: 'eu-west', dataResidency: 'eu' } });
}
async function cluster() {
  const s = await site();
  return h.prisma.cluster.create({
    data: { name: uniqueName('c'), siteId: s.id, servingEngine: 'vllm', engineVersion: '0.11.2', maxContextTokens: 131072 },
  });
}
async function node() {
  const c = await cluster();
  return h.prisma.node.create({ data: { clusterId: c.id, hostname: uniqueName('n') } });
}
async function gpu() {
  const n = await node();
  return h.prisma.gpu.create({ data: { nodeId: n.id, uuid: randomGpuUuid(), index: 0, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvlink' } });
}
const clusterFields = async () => ({
  name: uniqueName('cl'),
  siteId: (await site()).id,
  servingEngine: 'vllm' as const,
  engineVersion: '0.11.2',
  endpointUrl: 'http://127.0.0.1:8000',
  maxContextTokens: 131072,
  gpuHourlyCostUsd: 2.5,
});

type Sample = () => Promise<unknown>;
const SAMPLE_INPUTS: Record<string, Sample> = {
  'me.get': async () => undefined,
  'fleet.summary': async () => undefined,
  'sites.list': async () => undefined,
  'sites.create': async () => ({ name: uniqueName('s'), region: 'us-east', dataResidency: 'us' }),
  'sites.update': async () => ({ id: (await site()).id, data: { name: uniqueName('s'), region: 'us-east', dataResidency: 'us' } }),
  'sites.delete': async () => ({ id: (await site()).id }),
  'clusters.list': async () => ({ page: 1, pageSize: 10 }),
  'clusters.get': async () => ({ id: (await cluster()).id }),
  'clusters.options': async () => undefined,
  'clusters.create': clusterFields,
  'clusters.update': async () => ({ id: (await cluster()).id, data: await clusterFields() }),
  'clusters.delete': async () => ({ id: (await cluster()).id }),
  'nodes.list': async () => ({ page: 1, pageSize: 10 }),
  'nodes.get': async () => ({ id: (await node()).id }),
  'nodes.create': async () => ({ clusterId: (await cluster()).id, hostname: uniqueName('host') }),
  'nodes.update': async () => ({ id: (await node()).id, data: { hostname: uniqueName('host'), ipAddress: '10.0.0.7', labels: { rack: 'r1' } } }),
  'nodes.delete': async () => ({ id: (await node()).id }),
  'gpus.get': async () => ({ id: (await gpu()).id }),
  'gpus.create': async () => ({ nodeId: (await node()).id, uuid: randomGpuUuid(), index: 0, model: 'NVIDIA H200', memoryMib: 143771, interconnect: 'nvlink' }),
  'gpus.update': async () => ({ id: (await gpu()).id, data: { index: 1, model: 'NVIDIA H200', memoryMib: 143771, interconnect: 'nvswitch', pciBusId: '00000000:18:00.0' } }),
  'gpus.delete': async () => ({ id: (await gpu()).id }),
  'users.list': async () => ({ page: 1, pageSize: 10 }),
  'users.create': async () => ({ email: `${uniqueName('u')}@test.local`, name: 'New User', role: 'viewer', password: 'a-long-enough-password' }),
  'users.setRole': async () => ({ userId: await freshUser(), role: 'operator' }),
  'users.setDisabled': async () => ({ userId: await freshUser(), disabled: true }),
  'users.resetPassword': async () => ({ userId: await freshUser(), password: 'another-long-password' }),
  'audit.list': async () => ({ page: 1, pageSize: 10 }),
  'audit.facets': async () => undefined,
};

async function freshUser() {
  const u = await h.caller(h.users.admin).users.create({ email: `${uniqueName('x')}@test.local`, name: 'X', role: 'viewer', password: 'a-long-enough-password' });
  return u.id;
}

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { minRole?: TRole }; type: string } }>);

async function call(user: Parameters<Harness['caller']>[0], path: string, input: unknown) {
  const caller = h.caller(user) as unknown as Record<string, Record<string, (i: unknown) => Promise<unknown>>>;
  const [ns, name] = path.split('.') as [string, string];
  return caller[ns]![name]!(input);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof TRPCError ? e.code : `THREW ${(e as Error).message}`;
  }
}

describe('role matrix', () => {
  it('covers every procedure and each declares a minimum role', () => {
    expect(procedures.length).toBeGreaterThan(20);
    for (const [path, proc] of procedures) {
      expect(proc._def.meta?.minRole, `${path} has no minRole`).toBeDefined();
      expect(SAMPLE_INPUTS[path], `${path} has no sample input in the role-matrix test`).toBeDefined();
    }
  });

  for (const [path, proc] of procedures) {
    const minRole = proc._def.meta?.minRole as TRole;
    describe(`${path} (min ${minRole})`, () => {
      it('refuses an unauthenticated caller with UNAUTHORIZED', async () => {
        expect(await codeOf(call(null, path, await SAMPLE_INPUTS[path]!()))).toBe('UNAUTHORIZED');
      });
      for (const role of ROLES) {
        const allowed = roleAtLeast(role, minRole);
        it(`${allowed ? 'allows' : 'forbids'} ${role}`, async () => {
          const input = await SAMPLE_INPUTS[path]!();
          const before = await h.prisma.auditEvent.count({ where: { actorId: h.users[role].id } });
          const code = await codeOf(call(h.users[role], path, input));
          expect(code).toBe(allowed ? 'OK' : 'FORBIDDEN');
          const after = await h.prisma.auditEvent.count({ where: { actorId: h.users[role].id } });
          if (allowed && proc._def.type === 'mutation') expect(after, 'a successful mutation records an audit event').toBeGreaterThan(before);
          else expect(after).toBe(before);
        });
      }
    });
  }
});
