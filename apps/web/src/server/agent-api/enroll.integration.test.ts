// The enroll route's HTTP side with real Requests against the handler, on the real database: 201 with the
// wire response, a malformed request refused with 400 naming the field, a service refusal with its
// status and body. What enrollment does is the service's (packages/services/src/enrollment).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZAgentError, ZEnrollResponse } from '@fleetplane/contracts';
import { createJoinToken, type ServiceContext } from '@fleetplane/services';
import { testDeps, unique } from '@fleetplane/services/telemetry/test-support';
import { handleEnrollRequest } from './enroll';
import { enrollRequest } from './test-support';

const deps = testDeps();
const { prisma } = deps;
let ctx: ServiceContext;
let clusterId: string;

beforeAll(async () => {
  const userId = randomUUID();
  await prisma.user.create({ data: { id: userId, email: `${userId}@test.local`, name: 'op', role: 'operator' } });
  ctx = { prisma, actor: { type: 'user', id: userId, label: `${userId}@test.local` } };
  const site = await prisma.site.create({ data: { name: unique('site'), region: 'eu', dataResidency: 'eu' } });
  clusterId = (
    await prisma.cluster.create({ data: { name: unique('cl'), siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' } })
  ).id;
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const request = (joinToken: string, hostname = unique('node')) => ({
  joinToken,
  hostname,
  agentVersion: '0.1.0',
  driverVersion: '580.95.05',
  cudaVersion: '13.0',
});

async function enroll(body: unknown) {
  const res = await handleEnrollRequest(deps, enrollRequest(body), { ipAddress: '10.20.1.11' });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

describe('POST /api/agent/v1/enroll', () => {
  it('answers 201 with the credential, never cached; a second use of the token 409 with the error body', async () => {
    const { token } = await createJoinToken(ctx, { clusterId });
    const res = await enroll(request(token));
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(ZEnrollResponse.parse(res.body)).toMatchObject({ clusterId, reportIntervalSeconds: 10 });
    const again = await enroll(request(token));
    expect(again.status).toBe(409);
    expect(ZAgentError.parse(again.body).error).toMatchObject({ code: 'conflict' });
  });

  it('refuses unknown tokens with 401 (asking for Bearer) and malformed requests with 400 naming the field', async () => {
    const unknown = await enroll(request('fpj_this-token-never-existed'));
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer realm="fleetplane-agent"');
    const bad = await enroll({ ...request('fpj_whatever-token'), hostname: 'not a hostname!' });
    expect(bad.status).toBe(400);
    expect(ZAgentError.parse(bad.body).error.issues?.[0]?.path).toBe('hostname');
    expect(await prisma.node.count({ where: { clusterId, hostname: 'not a hostname!' } })).toBe(0);
  });
});
