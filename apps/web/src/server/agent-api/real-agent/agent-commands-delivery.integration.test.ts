// Command delivery with the real agent (its esbuild bundle as a process, over HTTP to the real agent API on
// the test database) when the way between them breaks: the control plane restarted mid-command, a network
// cut (a loopback TCP proxy) right before or during the outcome report and during the long poll, and an
// agent that never comes back. Each command ends finished once or failed with a reason, never run twice and
// never stuck running (docs/node-commands.md).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { TAgentCommandBody } from '@fleetplane/contracts';
import { AGENT_SILENT_ERROR } from '@fleetplane/domain';
import { artifactRefFor, issueNodeCommand, sweepNodeCommands, waitForNodeCommand } from '@fleetplane/services';
import { makeStoredArtifact } from '@fleetplane/services/artifacts/test-support';
import { makeNode, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { startCutProxy, type CutProxy } from './cut-proxy-test-support';
import { freePort, until, useRealAgent, type RealAgent } from './real-agent-test-support';

const setup = useRealAgent();
const { prisma } = setup;
const SUCCEEDED = '"state":"succeeded"';

const proxies: CutProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

/** A proxy between a new agent of `node` and the agent API, and that agent. */
async function agentBehindProxy(node: TestNode) {
  const proxy = await startCutProxy({ host: '127.0.0.1', port: Number(new URL(setup.harness.serverUrl).port) });
  proxies.push(proxy);
  const dirs = setup.harness.agentDirs(node, { server: proxy.url });
  return { proxy, agent: setup.harness.startAgent(dirs, await freePort()) };
}

async function issue(node: TestNode, command: TAgentCommandBody, artifactId?: string) {
  return (await issueNodeCommand(prisma, { nodeId: node.nodeId, command, origin: 'test', artifactId })).id;
}

async function prefetch(node: TestNode, artifact: { id: string }, bandwidthMbps: number | null) {
  const ref = await artifactRefFor(prisma, artifact.id);
  return issue(node, { kind: 'prefetch_artifact', payload: { artifact: ref, bandwidthMbps } }, artifact.id);
}

const commandRow = (id: string) =>
  prisma.nodeCommand.findUniqueOrThrow({
    where: { id },
    select: { state: true, progress: true, result: true, error: true, deliveries: true, finishedAt: true },
  });

/** What the agent logged about one command, by message. */
function logsOf(agent: RealAgent, commandId: string, msg: string) {
  return agent.logs().filter((l) => l.msg === msg && l.commandId === commandId);
}

/** The agent ran the command's handler once, with delivery 1, had the outcome acknowledged once and forgot it. */
async function expectRanOnceAndAcknowledged(agent: RealAgent, id: string) {
  await until('the outcome acknowledged', async () => logsOf(agent, id, 'command outcome reported').length > 0);
  expect(logsOf(agent, id, 'running command').map((l) => l.delivery)).toEqual([1]);
  expect(logsOf(agent, id, 'command finished').map((l) => l.outcome)).toEqual(['succeeded']);
  expect(logsOf(agent, id, 'command outcome reported').map((l) => l.state)).toEqual(['succeeded']);
  expect(logsOf(agent, id, 'the control plane kept another outcome for this command')).toEqual([]);
  await until('the journal to forget the command', async () => !journalOf(agent).includes(id));
}

const journalOf = (agent: RealAgent) => readFileSync(path.join(agent.dirs.base, 'commands-journal.json'), 'utf8');
const outcomesReceived = (id: string) => setup.harness.reportsReceived(id).filter((s) => s !== 'running');

async function stopAgent(agent: RealAgent) {
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
}

describe('command delivery when the control plane restarts', () => {
  it('restarted mid-download on the same port: the download resumes, the command succeeds once with delivery 1, and the agent polls on', async () => {
    const node = await makeNode(prisma, 0);
    // Eight files of 768 KiB at 16 Mbit/s: about three seconds of download, and most files are requested only
    // after the restart began (a response already sent whole can sit in the socket buffers, cut or not).
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`model-0000${i}.safetensors`, randomBytes(768 * 1024)]));
    const bytes = 8 * 768 * 1024;
    const art = await makeStoredArtifact(prisma, setup.harness.work, files);
    const agent = setup.harness.startAgent(setup.harness.agentDirs(node), await freePort());
    const id = await prefetch(node, art, 16);
    await until('download progress', async () => {
      const row = await commandRow(id);
      return row.state === 'running' && ((row.progress as { bytesDone?: number } | null)?.bytesDone ?? 0) > 1024 * 1024;
    });

    await setup.harness.stopServer();
    // Down for two seconds: the download, the progress reports and the long poll all fail meanwhile.
    await sleep(2_000);
    expect((await commandRow(id)).state).toBe('running');
    await setup.harness.restartServer();

    const done = await waitForNodeCommand(prisma, id, { timeoutMs: 60_000 });
    expect(done).toMatchObject({ state: 'succeeded', error: null, result: { digest: art.digest, alreadyComplete: false } });
    // One handler fetched every byte once: the interrupted file was resumed, not run again by a second delivery.
    expect((done.result as { downloadedBytes: number }).downloadedBytes).toBe(bytes);
    expect(agent.logs().some((l) => l.msg.startsWith('artifact file download interrupted'))).toBe(true);
    expect((await commandRow(id)).deliveries).toBe(1);
    await expectRanOnceAndAcknowledged(agent, id);
    expect(outcomesReceived(id)).toEqual(['succeeded']);

    // The command loop is back on the restarted server: a new command is picked up and run.
    const stop = await issue(node, { kind: 'stop_engine', payload: { drainSeconds: 0 } });
    expect(await waitForNodeCommand(prisma, stop, { timeoutMs: 30_000 })).toMatchObject({ state: 'succeeded' });
    await stopAgent(agent);
  }, 90_000);
});

describe('command delivery across a network cut', () => {
  it('cut right before the outcome report: the server never saw it; the outcome is re-reported, not re-run, and acknowledged once', async () => {
    const node = await makeNode(prisma, 0);
    const art = await makeStoredArtifact(prisma, setup.harness.work, { 'model.safetensors': randomBytes(64 * 1024) });
    const { proxy, agent } = await agentBehindProxy(node);
    const cut = proxy.cutOn('to_server', SUCCEEDED, 3_000);
    const id = await prefetch(node, art, null);
    await cut;
    // The outcome is only in the agent's journal.
    expect((await commandRow(id)).state).toBe('running');
    expect(JSON.parse(journalOf(agent))).toMatchObject({ entries: [{ id, status: 'finished', outcome: { state: 'succeeded' } }] });

    const done = await waitForNodeCommand(prisma, id, { timeoutMs: 60_000 });
    expect(done).toMatchObject({ state: 'succeeded', error: null, result: { digest: art.digest } });
    await expectRanOnceAndAcknowledged(agent, id);
    expect(logsOf(agent, id, 'command outcome not delivered yet').length).toBeGreaterThan(0);
    expect(proxy.refused).toBeGreaterThan(0);
    expect(outcomesReceived(id)).toEqual(['succeeded']);
    expect((await commandRow(id)).deliveries).toBe(1);
    await stopAgent(agent);
  }, 60_000);

  it('cut while the outcome report is in flight (the server recorded it, its answer was lost): re-reported, first outcome kept, not re-run', async () => {
    const node = await makeNode(prisma, 0);
    const art = await makeStoredArtifact(prisma, setup.harness.work, { 'model.safetensors': randomBytes(64 * 1024) });
    const { proxy, agent } = await agentBehindProxy(node);
    const cut = proxy.cutOn('to_agent', SUCCEEDED, 3_000);
    const id = await prefetch(node, art, null);
    await cut;
    const recorded = await commandRow(id);
    expect(recorded.state).toBe('succeeded');

    await expectRanOnceAndAcknowledged(agent, id);
    expect(logsOf(agent, id, 'command outcome not delivered yet').length).toBeGreaterThan(0);
    // The server saw the outcome twice and kept the first: same result, same finish time.
    expect(outcomesReceived(id)).toEqual(['succeeded', 'succeeded']);
    const after = await commandRow(id);
    expect(after).toMatchObject({ state: 'succeeded', result: recorded.result, finishedAt: recorded.finishedAt, deliveries: 1 });
    await stopAgent(agent);
  }, 60_000);

  it('a cut during the long poll loses no command: one issued while cut, and one whose poll answer was cut, each run once', async () => {
    const node = await makeNode(prisma, 0);
    const { proxy, agent } = await agentBehindProxy(node);

    // The server holds the agent's long poll; the link dies under it and a command is issued while it is down.
    await proxy.passed('to_server', 'waitSeconds=30');
    await sleep(300);
    proxy.cut(2_000);
    const whileCut = await issue(node, { kind: 'stop_engine', payload: { drainSeconds: 0 } });
    await proxy.restored();
    expect(await waitForNodeCommand(prisma, whileCut, { timeoutMs: 30_000 })).toMatchObject({ state: 'succeeded', error: null });
    await expectRanOnceAndAcknowledged(agent, whileCut);

    // The poll answer carrying the next command is lost: the server marked it delivered, the agent never saw it.
    const lost = proxy.cutOn('to_agent', '"kind":"evict_artifact"', 2_000);
    const evict = await issue(node, { kind: 'evict_artifact', payload: { digest: randomBytes(32).toString('hex') } });
    await lost;
    expect(await commandRow(evict)).toMatchObject({ state: 'delivered', deliveries: 1 });
    expect(await waitForNodeCommand(prisma, evict, { timeoutMs: 30_000 })).toMatchObject({
      state: 'succeeded',
      result: { evicted: false },
    });
    // Shown again by the next poll without counting a second delivery.
    expect((await commandRow(evict)).deliveries).toBe(1);
    await expectRanOnceAndAcknowledged(agent, evict);
    await stopAgent(agent);
  }, 60_000);
});

describe('a command whose agent never reports again', () => {
  it('the agent dies (kill -9) mid-command and does not come back: the sweeper fails the command with the reason, the waiter gets it', async () => {
    const node = await makeNode(prisma, 0);
    const art = await makeStoredArtifact(prisma, setup.harness.work, { 'model.safetensors': randomBytes(4 * 1024 * 1024) });
    const agent = setup.harness.startAgent(setup.harness.agentDirs(node), await freePort());
    const id = await prefetch(node, art, 8);
    await until('the command running', async () => (await commandRow(id)).state === 'running');
    agent.child.kill('SIGKILL');
    await agent.exited;

    // Before the silence limit nothing changes; past it the command is failed, not left running.
    await sweepNodeCommands(prisma);
    expect((await commandRow(id)).state).toBe('running');
    await sweepNodeCommands(prisma, { now: new Date(Date.now() + 121_000) });
    const done = await waitForNodeCommand(prisma, id, { timeoutMs: 1_000 });
    expect(done.state).toBe('failed');
    expect(done.error).toContain(AGENT_SILENT_ERROR);
  }, 60_000);
});
