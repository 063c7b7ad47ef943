// Commands to nodes against the real database: issue (dedupe), the agent's long poll woken by NOTIFY,
// reports (first outcome wins, cancelled/expired answered), cancel, wait, the sweeper, and a credential
// that can neither see nor answer another node's commands.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { ZCommandPollResponse, ZCommandReport, type TAgentCommandBody } from '@fleetplane/contracts';
import { SYSTEM_ACTOR } from '../context';
import { authenticateAgent } from '../telemetry/ingest.service';
import { agentAnswer, makeNode, testDeps, type TestNode } from '../telemetry/test-support';
import { FALLBACK_POLL_MS, NodeCommandNotifier } from './command-notifier';
import { pollNodeCommands, reportNodeCommand } from './agent-commands.service';
import { cancelNodeCommand, issueNodeCommand, listNodeCommands, sweepNodeCommands, waitForNodeCommand } from './node-commands.service';

const deps = testDeps();
const { prisma } = deps;
const notifier = new NodeCommandNotifier(inject('databaseUrl')).start();

afterAll(async () => {
  await notifier.close();
  await prisma.$disconnect();
  await deps.pool.end();
});

const stop: TAgentCommandBody = { kind: 'stop_engine', payload: { drainSeconds: 0 } };
const ctx = { prisma, actor: { type: 'user' as const, id: null, label: 'op@example.com' } };

// The agent's poll and report as the agent API makes them once the request is read (the credential
// authenticated, the body parsed); their HTTP side is apps/web/src/server/agent-api/commands.
async function poll(node: TestNode, waitSeconds = 0, over: { notifier?: NodeCommandNotifier } = {}) {
  const res = await agentAnswer(async () =>
    pollNodeCommands(
      { pool: deps.pool, notifier: over.notifier ?? notifier },
      await authenticateAgent(deps.pool, node.credential),
      waitSeconds,
    ),
  );
  return { ...res, commands: res.status === 200 ? ZCommandPollResponse.parse(res.body).commands : [] };
}

async function report(node: TestNode, id: string, body: unknown, now = new Date()) {
  const res = await agentAnswer(async () =>
    reportNodeCommand(deps.pool, await authenticateAgent(deps.pool, node.credential), id, ZCommandReport.parse(body), now),
  );
  return res as { status: number; body: { state?: string; error?: { code: string } } };
}

async function waitListening() {
  for (let i = 0; i < 100 && !notifier.isListening; i += 1) await new Promise((r) => setTimeout(r, 50));
  expect(notifier.isListening).toBe(true);
}

describe('issueNodeCommand', () => {
  it('queues a command with its audit record, and a dedupe key returns the same command', async () => {
    const node = await makeNode(prisma, 0);
    const first = await issueNodeCommand(prisma, {
      nodeId: node.nodeId,
      command: stop,
      origin: 'pipeline_step:s1',
      dedupeKey: 'step-s1-stop',
    });
    const again = await issueNodeCommand(prisma, {
      nodeId: node.nodeId,
      command: stop,
      origin: 'pipeline_step:s1',
      dedupeKey: 'step-s1-stop',
    });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    const other = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    expect(other.id).not.toBe(first.id);
    expect(await prisma.nodeCommand.count({ where: { nodeId: node.nodeId } })).toBe(2);
    const row = await prisma.nodeCommand.findUniqueOrThrow({ where: { id: first.id } });
    expect(row).toMatchObject({
      state: 'queued',
      kind: 'stop_engine',
      payload: { drainSeconds: 0 },
      deliveries: 0,
      origin: 'pipeline_step:s1',
    });
    const audits = await prisma.auditEvent.findMany({ where: { targetId: { in: [first.id, other.id] }, action: 'node_command.issue' } });
    expect(audits).toHaveLength(2);
  });

  it('runs inside the caller transaction: rolled back, nothing is issued', async () => {
    const node = await makeNode(prisma, 0);
    await expect(
      prisma.$transaction(async (tx) => {
        await issueNodeCommand(tx, { nodeId: node.nodeId, command: stop, origin: 'system' });
        throw new Error('caller failed');
      }),
    ).rejects.toThrow('caller failed');
    expect(await prisma.nodeCommand.count({ where: { nodeId: node.nodeId } })).toBe(0);
  });

  it('refuses an unknown node, a bad payload and a bad timeout', async () => {
    const node = await makeNode(prisma, 0);
    await expect(issueNodeCommand(prisma, { nodeId: 'nope', command: stop, origin: 'system' })).rejects.toMatchObject({
      kind: 'not_found',
    });
    await expect(
      issueNodeCommand(prisma, { nodeId: node.nodeId, command: { kind: 'evict_artifact', payload: { digest: 'xyz' } }, origin: 'system' }),
    ).rejects.toMatchObject({ kind: 'invalid', field: 'command' });
    await expect(
      issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'system', timeoutSeconds: 1 }),
    ).rejects.toMatchObject({
      kind: 'invalid',
      field: 'timeoutSeconds',
    });
  });
});

describe('agent poll and report', () => {
  it('delivers once, shows it again without a new delivery, then runs it to one outcome', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    const first = await poll(node, 0);
    expect(first.status).toBe(200);
    expect(first.commands).toEqual([expect.objectContaining({ id, kind: 'stop_engine', payload: { drainSeconds: 0 }, delivery: 1 })]);
    const again = await poll(node, 0);
    expect(again.commands.map((c) => [c.id, c.delivery])).toEqual([[id, 1]]);

    expect(await report(node, id, { state: 'running', progress: { phase: 'draining' } })).toEqual({
      status: 200,
      body: { state: 'running' },
    });
    const running = await prisma.nodeCommand.findUniqueOrThrow({ where: { id } });
    expect(running).toMatchObject({ state: 'running', progress: { phase: 'draining' } });
    expect(running.startedAt).not.toBeNull();

    expect((await report(node, id, { state: 'succeeded', result: { stopped: true } })).body).toEqual({ state: 'succeeded' });
    // At-least-once: the same or a different outcome arriving later changes nothing.
    expect((await report(node, id, { state: 'failed', error: 'late duplicate' })).body).toEqual({ state: 'succeeded' });
    const done = await prisma.nodeCommand.findUniqueOrThrow({ where: { id } });
    expect(done).toMatchObject({ state: 'succeeded', result: { stopped: true }, error: null });
    expect((await poll(node, 0)).commands).toEqual([]);
  });

  it('holds a long poll until a command is issued, woken by NOTIFY rather than the timeout', async () => {
    const node = await makeNode(prisma, 0);
    await waitListening();
    const started = Date.now();
    const pending = poll(node, 20);
    await new Promise((r) => setTimeout(r, 300));
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    const res = await pending;
    expect(res.commands.map((c) => c.id)).toEqual([id]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('falls back to short polls when the listener is down: a command issued meanwhile is still picked up within seconds', async () => {
    const node = await makeNode(prisma, 0);
    // Nothing listens on port 9 of loopback: this listener never connects.
    const deaf = new NodeCommandNotifier('postgresql://postgres@127.0.0.1:9/none').start();
    try {
      expect(deaf.isListening).toBe(false);
      const started = Date.now();
      const pending = poll(node, 20, { notifier: deaf });
      await new Promise((r) => setTimeout(r, 300));
      const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
      expect((await pending).commands.map((c) => c.id)).toEqual([id]);
      expect(Date.now() - started).toBeLessThan(FALLBACK_POLL_MS + 2_000);
    } finally {
      await deaf.close();
    }
  });

  it('answers an idle long poll with nothing after the wait', async () => {
    const node = await makeNode(prisma, 0);
    const started = Date.now();
    const res = await poll(node, 1);
    expect(res).toMatchObject({ status: 200, commands: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers a long poll that ran out unwoken from the read it made before waiting: one query for the whole poll', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    expect((await poll(node, 0)).commands.map((c) => c.id)).toEqual([id]);
    // A running report sends no NOTIFY and changes nothing the answer shows.
    expect((await report(node, id, { state: 'running', progress: { phase: 'draining' } })).status).toBe(200);
    await waitListening();
    const query = vi.spyOn(deps.pool, 'query');
    try {
      const res = await poll(node, 1);
      expect(res.commands.map((c) => [c.id, c.delivery])).toEqual([[id, 1]]);
      const reads = query.mock.calls.filter(([q]) => (q as { name?: string }).name === 'fp-commands-open');
      expect(reads).toHaveLength(1);
    } finally {
      query.mockRestore();
    }
  });

  it('reads again after a wait in which the agent reported an outcome: a finished command is not listed', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    expect((await poll(node, 0)).commands.map((c) => c.id)).toEqual([id]);
    await waitListening();
    const pending = poll(node, 1);
    await new Promise((r) => setTimeout(r, 200));
    // The outcome's NOTIFY does not wake the node's poll (the agent knows), but the read before the wait is stale now.
    expect((await report(node, id, { state: 'succeeded', result: {} })).body).toEqual({ state: 'succeeded' });
    expect((await pending).commands).toEqual([]);
  });

  it('never shows or accepts reports on another node’s commands', async () => {
    const mine = await makeNode(prisma, 0);
    const theirs = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: theirs.nodeId, command: stop, origin: 'operator' });
    expect((await poll(mine, 0)).commands).toEqual([]);
    const res = await report(mine, id, { state: 'succeeded', result: {} });
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('not_found');
    expect((await report(mine, 'no-such-command', { state: 'succeeded', result: {} })).status).toBe(404);
    expect((await prisma.nodeCommand.findUniqueOrThrow({ where: { id } })).state).toBe('queued');
  });
});

describe('cancel, wait and expiry', () => {
  it('cancels a running command: the report answers cancelled, the long poll wakes without it, the waiter resolves', async () => {
    const node = await makeNode(prisma, 0);
    await waitListening();
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    await poll(node, 0);
    await report(node, id, { state: 'running', progress: { phase: 'draining' } });

    const waiter = waitForNodeCommand(prisma, id, { timeoutMs: 20_000 });
    const started = Date.now();
    const longPoll = poll(node, 20);
    await new Promise((r) => setTimeout(r, 300));
    await cancelNodeCommand(ctx, id);

    expect((await longPoll).commands).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await waiter).toMatchObject({ id, state: 'cancelled', error: 'Cancelled by op@example.com' });
    expect((await report(node, id, { state: 'succeeded', result: {} })).body).toEqual({ state: 'cancelled' });
    await cancelNodeCommand(ctx, id); // again: a no-op
    expect(await prisma.auditEvent.count({ where: { targetId: id, action: 'node_command.cancel' } })).toBe(1);
  });

  it('will not cancel a finished command', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    await poll(node, 0);
    await report(node, id, { state: 'failed', error: 'no engine' });
    await expect(cancelNodeCommand(ctx, id)).rejects.toMatchObject({ kind: 'conflict' });
    await expect(cancelNodeCommand(ctx, 'missing')).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('waitForNodeCommand returns the open state at its timeout', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator' });
    expect(await waitForNodeCommand(prisma, id, { timeoutMs: 300 })).toEqual({ id, state: 'queued', result: null, error: null });
  });

  it('expires a command reported after its deadline and tells the agent', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator', timeoutSeconds: 5 });
    await poll(node, 0);
    const res = await report(node, id, { state: 'succeeded', result: {} }, new Date(Date.now() + 10_000));
    expect(res.body).toEqual({ state: 'expired' });
    expect((await prisma.nodeCommand.findUniqueOrThrow({ where: { id } })).state).toBe('expired');
  });
});

describe('sweepNodeCommands', () => {
  it('a command its agent never answers ends expired at its deadline with the reason, and the waiter gets it', async () => {
    const node = await makeNode(prisma, 0);
    const { id } = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator', timeoutSeconds: 5 });
    const row = await prisma.nodeCommand.findUniqueOrThrow({ where: { id } });
    await sweepNodeCommands(prisma, { now: new Date(row.deadlineAt.getTime() - 1000) });
    expect((await prisma.nodeCommand.findUniqueOrThrow({ where: { id } })).state).toBe('queued');
    await sweepNodeCommands(prisma, { now: new Date(row.deadlineAt.getTime() + 1000) });
    expect(await waitForNodeCommand(prisma, id, { timeoutMs: 1000 })).toEqual({
      id,
      state: 'expired',
      result: null,
      error: `Expired at its deadline (${row.deadlineAt.toISOString()}) while queued`,
    });
  });

  it('expires past-deadline commands, fails silent running ones, re-queues unstarted deliveries; a second sweep changes nothing', async () => {
    const node = await makeNode(prisma, 0);
    const now = new Date();
    const past = await issueNodeCommand(prisma, {
      nodeId: node.nodeId,
      command: stop,
      origin: 'system',
      timeoutSeconds: 5,
      now: new Date(now.getTime() - 60_000),
    });
    const silent = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'system' });
    const lost = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'system' });
    const fine = await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'system' });
    const longAgo = new Date(now.getTime() - 10 * 60_000);
    await prisma.nodeCommand.update({
      where: { id: silent.id },
      data: { state: 'running', deliveredAt: longAgo, startedAt: longAgo, heartbeatAt: longAgo, deliveries: 1 },
    });
    await prisma.nodeCommand.update({ where: { id: lost.id }, data: { state: 'delivered', deliveredAt: longAgo, deliveries: 1 } });
    await prisma.nodeCommand.update({
      where: { id: fine.id },
      data: { state: 'running', deliveredAt: now, startedAt: now, heartbeatAt: now, deliveries: 1 },
    });

    const out = await sweepNodeCommands(prisma, { now });
    expect(out.expired).toBeGreaterThanOrEqual(1);
    const rows = Object.fromEntries((await prisma.nodeCommand.findMany({ where: { nodeId: node.nodeId } })).map((r) => [r.id, r]));
    expect(rows[past.id]).toMatchObject({ state: 'expired' });
    expect(rows[silent.id]!.state).toBe('failed');
    expect(rows[silent.id]!.error).toMatch(/went silent/);
    expect(rows[lost.id]).toMatchObject({ state: 'queued', deliveries: 1 });
    expect(rows[fine.id]!.state).toBe('running');

    // The re-queued command counts a second delivery when polled.
    const polled = await poll(node, 0);
    expect(polled.commands.find((c) => c.id === lost.id)?.delivery).toBe(2);

    const second = await sweepNodeCommands(prisma, { now });
    const after = await prisma.nodeCommand.findMany({ where: { nodeId: node.nodeId }, orderBy: { id: 'asc' } });
    expect(after.map((r) => r.state).sort()).toEqual(['delivered', 'expired', 'failed', 'running']);
    expect(second.failedSilent + second.redelivered).toBe(0);
  });
});

describe('listNodeCommands', () => {
  it('pages, filters by node and state, sorts by issue time', async () => {
    const node = await makeNode(prisma, 0);
    const ids = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        (await issueNodeCommand(prisma, { nodeId: node.nodeId, command: stop, origin: 'operator', now: new Date(Date.now() + i * 1000) }))
          .id,
      );
    }
    await cancelNodeCommand({ prisma, actor: SYSTEM_ACTOR }, ids[0]!);
    const page = await listNodeCommands(prisma, { nodeId: node.nodeId, pageSize: 2 });
    expect(page.total).toBe(3);
    expect(page.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect(page.items[0]).toMatchObject({ nodeHostname: node.hostname, kind: 'stop_engine', state: 'queued', origin: 'operator' });
    const cancelled = await listNodeCommands(prisma, { nodeId: node.nodeId, states: ['cancelled'] });
    expect(cancelled.items.map((i) => i.id)).toEqual([ids[0]]);
  });
});
