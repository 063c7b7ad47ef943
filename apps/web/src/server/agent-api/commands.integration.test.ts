// The commands routes' HTTP side with real Requests against the handlers, on the real database and a real
// LISTEN connection: the credential (401), waitSeconds (400), a report checked against the wire contract
// (400, nothing changed), and the answers the agent parses. What a poll delivers and a report changes is
// the service's (packages/services/src/node-commands).
import { afterAll, describe, expect, inject, it } from 'vitest';
import { agentAuthorizationHeader, AGENT_API_PATHS, ZCommandPollResponse, type TAgentCommandBody } from '@fleetplane/contracts';
import { issueNodeCommand, NodeCommandNotifier } from '@fleetplane/services';
import { makeNode, testDeps, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { handleCommandPollRequest, handleCommandReportRequest } from './commands';

const deps = testDeps();
const { prisma } = deps;
const notifier = new NodeCommandNotifier(inject('databaseUrl')).start();
const http = { ...deps, notifier };

afterAll(async () => {
  await notifier.close();
  await prisma.$disconnect();
  await deps.pool.end();
});

const stop: TAgentCommandBody = { kind: 'stop_engine', payload: { drainSeconds: 0 } };

function pollReq(node: TestNode, waitSeconds?: number | string) {
  const q = waitSeconds === undefined ? '' : `?waitSeconds=${waitSeconds}`;
  return new Request(`http://127.0.0.1${AGENT_API_PATHS.commands}${q}`, {
    headers: { authorization: agentAuthorizationHeader(node.credential) },
  });
}

async function poll(node: TestNode, waitSeconds?: number | string) {
  const res = await handleCommandPollRequest(http, pollReq(node, waitSeconds));
  const body = (await res.json()) as unknown;
  return { status: res.status, body, commands: res.status === 200 ? ZCommandPollResponse.parse(body).commands : [] };
}

async function report(node: TestNode, id: string, body: unknown) {
  const res = await handleCommandReportRequest(
    http,
    new Request(`http://127.0.0.1${AGENT_API_PATHS.commandReport(id)}`, {
      method: 'POST',
      headers: { authorization: agentAuthorizationHeader(node.credential), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    id,
  );
  return { status: res.status, body: (await res.json()) as { state?: string; error?: { code: string } } };
}

describe('agent poll and report over HTTP', () => {
  it('delivers a command with 200 and takes its outcome', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    const first = await poll(node, 0);
    expect(first.status).toBe(200);
    expect(first.commands).toEqual([expect.objectContaining({ id, kind: 'stop_engine', delivery: 1 })]);
    expect(await report(node, id, { state: 'succeeded', result: { stopped: true } })).toEqual({
      status: 200,
      body: { state: 'succeeded' },
    });
    expect((await report(node, 'no-such-command', { state: 'succeeded', result: {} })).status).toBe(404);
  });

  it('refuses bad waitSeconds, missing and revoked credentials', async () => {
    const node = await makeNode(prisma, 0);
    expect((await poll(node, 'soon')).status).toBe(400);
    const noAuth = await handleCommandPollRequest(http, new Request(`http://127.0.0.1${AGENT_API_PATHS.commands}`));
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Bearer realm="fleetplane-agent"');
    await prisma.nodeCredential.update({ where: { id: node.credentialId }, data: { revokedAt: new Date() } });
    // The identity is cached by authenticateAgent; the revocation still applies at once.
    expect((await poll(node, 0)).status).toBe(401);
  });

  it('refuses a malformed report with nothing changed', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    const res = await report(node, id, { state: 'succeeded' });
    expect(res.status).toBe(400);
    expect((await prisma.nodeCommand.findUniqueOrThrow({ where: { id } })).state).toBe('queued');
  });
});
