// Join tokens end to end against the real database: created by an operator (hash only), traded once
// for a node credential through the agent route handler, and refused clearly in every other case.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZAgentError, ZEnrollRequest, ZEnrollResponse } from '@fleetplane/contracts';
import type { ServiceContext } from '../context';
import { expireCredentials } from '../maintenance/expire-credentials.service';
import { agentAnswer, batchFor, sendBatch, testDeps, unique } from '../telemetry/test-support';
import { createJoinToken, listJoinTokens, revokeJoinToken } from './join-tokens.service';
import { enrollNode } from './enroll.service';
import { listNodeCredentials, revokeNodeCredential } from './node-credentials.service';
import { hashSecret } from '../shared/secrets';

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

/** An enrollment as the agent API makes it once the request is parsed; a refusal comes back as its wire status and body. */
const enroll = (body: ReturnType<typeof request>, ip: string | null = '10.20.1.11') =>
  agentAnswer(() => enrollNode(prisma, ZEnrollRequest.parse(body), { ipAddress: ip }), 201);

async function snapshot() {
  // Scoped to this file's cluster: other test files share the database and run at the same time.
  const nodeIds = (await prisma.node.findMany({ where: { clusterId }, select: { id: true } })).map((n) => n.id);
  const [nodes, credentials, audits, used] = await Promise.all([
    prisma.node.count({ where: { clusterId } }),
    prisma.nodeCredential.count({ where: { nodeId: { in: nodeIds } } }),
    prisma.auditEvent.count({ where: { action: 'node.enroll', targetId: { in: nodeIds } } }),
    prisma.joinToken.count({ where: { clusterId, usedAt: { not: null } } }),
  ]);
  return { nodes, credentials, audits, used };
}

describe('join tokens', () => {
  it('stores only a hash and a prefix, returns the token once, and audits the creation', async () => {
    const created = await createJoinToken(ctx, { clusterId, expiresInMinutes: 30, description: 'rack r12' });
    expect(created.token).toMatch(/^fpj_[A-Za-z0-9_-]{43}$/);
    const row = await prisma.joinToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.tokenHash).toBe(hashSecret(created.token));
    expect(row.tokenPrefix).toBe(created.token.slice(0, 12));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(row.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'join_token.create', targetId: created.id } });
    expect(JSON.stringify(audit)).not.toContain(created.token);
    expect(audit.actorId).toBe(ctx.actor.id);
    const listed = await listJoinTokens(ctx, { clusterId });
    expect(listed.find((t) => t.id === created.id)).toMatchObject({
      status: 'active',
      description: 'rack r12',
      tokenPrefix: row.tokenPrefix,
    });
    expect(JSON.stringify(listed)).not.toContain('tokenHash');
  });

  it('refuses an unknown cluster and out-of-range validity', async () => {
    await expect(createJoinToken(ctx, { clusterId: 'nope', expiresInMinutes: 30 })).rejects.toThrow('Cluster nope does not exist');
    await expect(createJoinToken(ctx, { clusterId, expiresInMinutes: 99_999 })).rejects.toThrow(/At most 10080 minutes/);
  });
});

describe('enrollNode', () => {
  it('creates the node, issues a hashed credential, marks the token used and audits as the agent', async () => {
    const { token, id } = await createJoinToken(ctx, { clusterId });
    const body = request(token);
    const res = await enroll(body);
    expect(res.status).toBe(201);
    const out = ZEnrollResponse.parse(res.body);
    expect(out).toMatchObject({ clusterId, reportIntervalSeconds: 10 });
    expect(out.credential).toMatch(/^fpa_/);
    const node = await prisma.node.findUniqueOrThrow({ where: { id: out.nodeId } });
    expect(node).toMatchObject({
      hostname: body.hostname,
      clusterId,
      agentVersion: '0.1.0',
      driverVersion: '580.95.05',
      cudaVersion: '13.0',
      ipAddress: '10.20.1.11',
    });
    const cred = await prisma.nodeCredential.findFirstOrThrow({ where: { nodeId: out.nodeId } });
    expect(cred.tokenHash).toBe(hashSecret(out.credential));
    expect(await prisma.joinToken.findUniqueOrThrow({ where: { id } })).toMatchObject({ usedByNodeId: out.nodeId });
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'node.enroll', targetId: out.nodeId } });
    expect(audit).toMatchObject({ actorType: 'agent', actorId: null, actorLabel: `agent:${body.hostname}`, ipAddress: '10.20.1.11' });
    expect(JSON.stringify(audit)).not.toContain(out.credential);
    // The credential works at once.
    const posted = await sendBatch(deps, out.credential, {
      ...batchFor({
        clusterId,
        nodeId: out.nodeId,
        hostname: body.hostname,
        gpus: [],
        credential: out.credential,
        credentialId: cred.id,
      }),
    });
    expect(posted.status).toBe(200);
    expect((await listJoinTokens(ctx, { clusterId })).find((t) => t.id === id)).toMatchObject({
      status: 'used',
      usedByNode: { id: out.nodeId, hostname: body.hostname },
    });
  });

  it('refuses a used token with 409 and changes nothing', async () => {
    const { token } = await createJoinToken(ctx, { clusterId });
    expect((await enroll(request(token))).status).toBe(201);
    const before = await snapshot();
    const again = await enroll(request(token));
    expect(again.status).toBe(409);
    expect(ZAgentError.parse(again.body).error).toMatchObject({ code: 'conflict' });
    expect(ZAgentError.parse(again.body).error.message).toMatch(/already used .*work once/);
    expect(await snapshot()).toEqual(before);
  });

  it('gives exactly one of two racing agents the node', async () => {
    const { token } = await createJoinToken(ctx, { clusterId });
    const results = await Promise.all([enroll(request(token)), enroll(request(token))]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('refuses an expired token with 410 and changes nothing (also after the sweeper ran)', async () => {
    const { token, id } = await createJoinToken(ctx, { clusterId });
    await prisma.joinToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const before = await snapshot();
    const res = await enroll(request(token));
    expect(res.status).toBe(410);
    expect(ZAgentError.parse(res.body).error).toMatchObject({ code: 'expired' });
    await expireCredentials({ prisma });
    expect((await prisma.joinToken.findUniqueOrThrow({ where: { id } })).revokedAt).not.toBeNull();
    expect((await enroll(request(token))).status).toBe(410);
    expect(await snapshot()).toEqual(before);
    expect((await listJoinTokens(ctx, { clusterId })).find((t) => t.id === id)?.status).toBe('expired');
  });

  it('refuses a revoked token with 401 and changes nothing', async () => {
    const { token, id } = await createJoinToken(ctx, { clusterId });
    await revokeJoinToken(ctx, id);
    const before = await snapshot();
    const res = await enroll(request(token));
    expect(res.status).toBe(401);
    expect(ZAgentError.parse(res.body).error.message).toMatch(/revoked/);
    expect(await snapshot()).toEqual(before);
    await expect(revokeJoinToken(ctx, id)).rejects.toThrow('already revoked');
  });

  it('refuses unknown tokens (401)', async () => {
    const before = await snapshot();
    expect((await enroll(request('fpj_this-token-never-existed'))).status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it('re-enrolls an existing hostname into the same node and revokes its old credential', async () => {
    const hostname = unique('reinstalled');
    const first = ZEnrollResponse.parse((await enroll(request((await createJoinToken(ctx, { clusterId })).token, hostname))).body);
    const second = ZEnrollResponse.parse((await enroll(request((await createJoinToken(ctx, { clusterId })).token, hostname))).body);
    expect(second.nodeId).toBe(first.nodeId);
    const creds = await listNodeCredentials(ctx, { nodeId: first.nodeId });
    expect(creds).toHaveLength(2);
    expect(creds.filter((c) => c.revokedAt === null)).toHaveLength(1);
    const old = await sendBatch(
      deps,
      first.credential,
      batchFor({ clusterId, nodeId: first.nodeId, hostname, gpus: [], credential: first.credential, credentialId: '' }),
    );
    expect(old.status).toBe(401);
  });

  it('lets an operator revoke a node credential, after which the agent gets 401', async () => {
    const out = ZEnrollResponse.parse((await enroll(request((await createJoinToken(ctx, { clusterId })).token))).body);
    const [cred] = await listNodeCredentials(ctx, { nodeId: out.nodeId });
    await revokeNodeCredential(ctx, cred!.id);
    const res = await sendBatch(
      deps,
      out.credential,
      batchFor({ clusterId, nodeId: out.nodeId, hostname: 'x', gpus: [], credential: out.credential, credentialId: cred!.id }),
    );
    expect(res.status).toBe(401);
    await expect(revokeNodeCredential(ctx, cred!.id)).rejects.toThrow('already revoked');
    expect(await prisma.auditEvent.count({ where: { action: 'node_credential.revoke', targetId: cred!.id, actorId: ctx.actor.id } })).toBe(
      1,
    );
  });

  it('will not revoke a token that was already used', async () => {
    const { token, id } = await createJoinToken(ctx, { clusterId });
    await enroll(request(token));
    await expect(revokeJoinToken(ctx, id)).rejects.toThrow(/already used/);
  });
});
