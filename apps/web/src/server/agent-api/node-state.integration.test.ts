// The node-state route's HTTP side with real Requests against the handler, on the real database: the
// credential names the node (401 without a live one), the body is checked against the wire contract (400),
// and an accepted report answers 200 {accepted}. What is stored is the service's (recordNodeState).
import { afterAll, describe, expect, it } from 'vitest';
import { agentAuthorizationHeader } from '@fleetplane/contracts';
import { exampleNodeStateReport } from '@fleetplane/contracts/testing';
import { makeNode, testDeps } from '@fleetplane/services/telemetry/test-support';
import { handleNodeStateRequest } from './node-state';

const deps = testDeps();
const { prisma } = deps;

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const put = (credential: string | null, body: unknown) =>
  handleNodeStateRequest(
    deps,
    new Request('http://localhost/api/agent/v1/node-state', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(credential ? { authorization: agentAuthorizationHeader(credential) } : {}) },
      body: JSON.stringify(body),
    }),
  );

describe('PUT /api/agent/v1/node-state', () => {
  it("stores the report for the credential's node and answers 200 {accepted}", async () => {
    const n = await makeNode(prisma, 1);
    const res = await put(n.credential, exampleNodeStateReport({ restarts: 2 }));
    expect([res.status, await res.json()]).toEqual([200, { accepted: true }]);
    expect((await prisma.nodeRuntimeState.findUniqueOrThrow({ where: { nodeId: n.nodeId } })).restarts).toBe(2);
  });

  it('refuses a missing or revoked credential and an invalid body', async () => {
    const n = await makeNode(prisma, 1);
    const missing = await put(null, exampleNodeStateReport());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="fleetplane-agent"');
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      'Send the node credential as "Authorization: Bearer <credential>".',
    );
    expect((await put(n.credential, { observedAt: 'yesterday' })).status).toBe(400);
    const revoked = await makeNode(prisma, 1);
    await prisma.nodeCredential.update({ where: { id: revoked.credentialId }, data: { revokedAt: new Date() } });
    expect((await put(revoked.credential, exampleNodeStateReport())).status).toBe(401);
    expect(await prisma.nodeRuntimeState.findUnique({ where: { nodeId: revoked.nodeId } })).toBeNull();
  });

  it('an agent can only speak for its own node: the credential names the node, a node id in the body is refused', async () => {
    const a = await makeNode(prisma, 1);
    const b = await makeNode(prisma, 1);
    expect((await put(a.credential, { ...exampleNodeStateReport({ restarts: 9 }), nodeId: b.nodeId })).status).toBe(400);
    expect((await put(a.credential, exampleNodeStateReport({ restarts: 9 }))).status).toBe(200);
    expect((await prisma.nodeRuntimeState.findUniqueOrThrow({ where: { nodeId: a.nodeId } })).restarts).toBe(9);
    expect(await prisma.nodeRuntimeState.findUnique({ where: { nodeId: b.nodeId } })).toBeNull();
  });
});
