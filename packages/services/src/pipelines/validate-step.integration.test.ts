import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZAgentCommand } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { startReferenceEndpoint, type TReferenceEndpoint } from '@fleetplane/reference-endpoint';
import { evaluateFleetHealth } from '../health/evaluate-health.service';
import { allowLoopbackForTests } from '../network/testing';
import { sweepNodeCommands } from '../node-commands/node-commands.service';
import { syncSuites } from '../validation/suites.service';
import { executePipelineStep, type StepRunnerDeps } from './step-runner.service';
import { sweepStagingLeases } from './validate-step.service';
import { seedStagingScene } from './validate-step-test-support';
import { waitFor } from '../testing';

/**
 * The validate step end to end on real Postgres, against a simulated agent: it executes the staging node's
 * commands from node_command (as the agent's command loop does, first outcome wins) and, for a load, starts a
 * real vLLM-protocol reference endpoint serving the command's model, which the gating suite then measures
 * over HTTP. The agent can be told to fail a load, to never answer one (cancel / expiry / worker crash), or
 * to start an engine that is dead (the suite fails).
 */

let prisma: PrismaClient;
const suiteName = `vstage-${randomBytes(3).toString('hex')}`;
const deps = (): StepRunnerDeps => ({ prisma, cancelPollMs: 100, validate: { commandWaitSliceMs: 500, leaseRenewMs: 200 } });

class SimAgent {
  serving: string | null = null;
  endpoint: TReferenceEndpoint | null = null;
  failLoad = new Map<string, string>();
  hang = new Set<string>();
  dead = new Set<string>();
  handled: { kind: string; digest: string | null }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  constructor(readonly nodeId: string) {}
  start() {
    this.timer = setInterval(() => void this.poll().catch(() => undefined), 50);
  }
  async stop() {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await sleep(20);
    await this.endpoint?.close();
    this.endpoint = null;
  }
  private async poll() {
    if (this.busy) return;
    this.busy = true;
    try {
      const cmds = await prisma.nodeCommand.findMany({
        where: { nodeId: this.nodeId, state: { in: ['queued', 'delivered'] } },
        orderBy: { issuedAt: 'asc' },
      });
      for (const c of cmds) {
        const body = ZAgentCommand.parse({ kind: c.kind, payload: c.payload });
        const digest = body.kind === 'load_artifact' ? body.payload.artifact.digest : null;
        if (digest && this.hang.has(digest)) continue;
        await this.finishOnce(c.id, { state: 'running', startedAt: new Date() }, ['queued', 'delivered']);
        this.handled.push({ kind: body.kind, digest });
        if (body.kind === 'load_artifact') {
          const failure = this.failLoad.get(body.payload.artifact.digest);
          if (failure) {
            await this.finishOnce(c.id, { state: 'failed', error: failure, finishedAt: new Date() });
            continue;
          }
          await this.endpoint?.close();
          this.endpoint = await startReferenceEndpoint({ servedModelName: body.payload.launch.servedModelName });
          if (this.dead.has(body.payload.artifact.digest)) this.endpoint.setDegradations({ dead: true });
          this.serving = body.payload.artifact.digest;
          await this.reportState('ready');
          await this.finishOnce(c.id, {
            state: 'succeeded',
            finishedAt: new Date(),
            result: {
              endpointUrl: this.endpoint.url,
              servedModelIds: [body.payload.launch.servedModelName],
              artifactDigest: this.serving,
              loadSeconds: 0.1,
            },
          });
        } else if (body.kind === 'stop_engine') {
          await this.endpoint?.close();
          this.endpoint = null;
          this.serving = null;
          await this.reportState('stopped');
          await this.finishOnce(c.id, { state: 'succeeded', finishedAt: new Date(), result: {} });
        } else {
          await this.finishOnce(c.id, { state: 'succeeded', finishedAt: new Date(), result: {} });
        }
      }
    } finally {
      this.busy = false;
    }
  }
  /** First outcome wins, as in the agent API: a cancelled or expired command is not overwritten. */
  private finishOnce(id: string, data: object, from: ('queued' | 'delivered' | 'running')[] = ['running']) {
    return prisma.nodeCommand.updateMany({ where: { id, state: { in: from } }, data });
  }
  reportState(engineState: string) {
    const data = { observedAt: new Date(), engineState, servedArtifactDigest: this.serving };
    return prisma.nodeRuntimeState.upsert({ where: { nodeId: this.nodeId }, create: { nodeId: this.nodeId, ...data }, update: data });
  }
}

const agents: SimAgent[] = [];

async function scene(opts: { staging?: boolean } = {}) {
  const s = await seedStagingScene(prisma, { suiteName, staging: opts.staging });
  // The candidate is what the run's download step produced.
  await prisma.pipelineStep.create({
    data: { runId: s.run.id, kind: 'download', targetKey: 'default', position: 0, state: 'succeeded', artifactId: s.candidate.id },
  });
  await prisma.pipelineStep.update({
    where: { id: s.step.id },
    data: { state: 'queued', spec: { clusterId: s.cluster.id, candidate: { kind: 'download', targetKey: 'default' } } },
  });
  await prisma.artifact.updateMany({ where: { id: { in: [s.candidate.id, s.serving.id] } }, data: { status: 'ready' } });
  const agent = new SimAgent(s.node.id);
  agents.push(agent);
  // The node serves the cluster's artifact when the step starts.
  agent.serving = s.serving.digest;
  await agent.reportState('ready');
  agent.start();
  return { ...s, agent };
}

const stepOf = (id: string) => prisma.pipelineStep.findUniqueOrThrow({ where: { id } });
const commandsOf = (nodeId: string) => prisma.nodeCommand.findMany({ where: { nodeId }, orderBy: { issuedAt: 'asc' } });

beforeAll(async () => {
  prisma = createPrismaClient(inject('databaseUrl'));
  await allowLoopbackForTests(prisma);
  await syncSuites(prisma, [
    { name: suiteName, version: 1, checks: [{ key: 'endpoint', kind: 'endpoint', required: true, params: {}, thresholds: {} }] } as never,
  ]);
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});
afterAll(() => prisma?.$disconnect());

describe('the validate step on a staging node', () => {
  it('loads the candidate, passes the gating suite against the node, puts the node back and proposes the upgrade', async () => {
    const s = await scene();
    expect(await executePipelineStep(deps(), s.step.id, { isFinalAttempt: true })).toBe('succeeded');
    const step = await stepOf(s.step.id);
    const p = step.progress as Record<string, string>;
    expect(step).toMatchObject({ state: 'succeeded', artifactId: s.candidate.id, error: null });
    expect(p).toMatchObject({ phase: 'done', nodeId: s.node.id, nodeHostname: s.node.hostname, verdict: 'pass' });
    const run = await prisma.validationRun.findUniqueOrThrow({ where: { id: p.validationRunId } });
    expect(run).toMatchObject({
      state: 'succeeded',
      verdict: 'pass',
      nodeId: s.node.id,
      artifactId: s.candidate.id,
      pipelineRunId: s.run.id,
      pipelineStepId: s.step.id,
    });
    expect(run.evidenceDigest).toBeTruthy();
    // Candidate loaded once, then the artifact it served before loaded again; the lease is released.
    expect(s.agent.handled).toEqual([
      { kind: 'load_artifact', digest: s.candidate.digest },
      { kind: 'load_artifact', digest: s.serving.digest },
    ]);
    expect(s.agent.serving).toBe(s.serving.digest);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
    const cmds = await commandsOf(s.node.id);
    expect(cmds.map((c) => [c.kind, c.state, c.origin])).toEqual([
      ['load_artifact', 'succeeded', `pipeline_step:${s.step.id}`],
      ['load_artifact', 'succeeded', `pipeline_step:${s.step.id}`],
    ]);
    const proposal = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.proposalId } });
    expect(proposal).toMatchObject({ artifactId: s.candidate.id, clusterId: s.cluster.id, state: 'pending_approval' });
  }, 60_000);

  it('ends skipped with the reason when the cluster has no staging node', async () => {
    const s = await scene({ staging: false });
    expect(await executePipelineStep(deps(), s.step.id, { isFinalAttempt: true })).toBe('skipped');
    const step = await stepOf(s.step.id);
    expect(step.state).toBe('skipped');
    expect(step.error).toMatch(/No staging node configured for cluster "c-[0-9a-f]+": choose one in the cluster's settings/);
    expect(await commandsOf(s.node.id)).toEqual([]);
  });

  it('fails with the reason when the staging node is offline, and touches nothing', async () => {
    const s = await scene();
    await prisma.node.update({ where: { id: s.node.id }, data: { health: 'offline' } });
    await expect(executePipelineStep(deps(), s.step.id, { isFinalAttempt: false })).rejects.toThrow(/is offline/);
    expect((await stepOf(s.step.id)).state).toBe('failed');
    expect(await commandsOf(s.node.id)).toEqual([]);
  });

  it("a failed load fails the step with the agent's reason and puts the node back", async () => {
    const s = await scene();
    s.agent.failLoad.set(s.candidate.digest, 'engine exited with code 1 before /health answered');
    await expect(executePipelineStep(deps(), s.step.id, { isFinalAttempt: false })).rejects.toThrow(
      /Loading the candidate on staging node "stage-[0-9a-f]+" failed: engine exited with code 1/,
    );
    const step = await stepOf(s.step.id);
    expect(step.state).toBe('failed');
    expect(await prisma.validationRun.count({ where: { pipelineStepId: s.step.id } })).toBe(0);
    await waitFor(async () => s.agent.handled.length === 2);
    expect(s.agent.handled[1]).toEqual({ kind: 'load_artifact', digest: s.serving.digest });
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('a failing suite rejects the candidate with reasons, puts the node back and proposes nothing', async () => {
    const s = await scene();
    s.agent.dead.add(s.candidate.digest);
    await expect(executePipelineStep(deps(), s.step.id, { isFinalAttempt: false })).rejects.toThrow(
      /Candidate rejected on stage-[0-9a-f]+: /,
    );
    const step = await stepOf(s.step.id);
    const p = step.progress as Record<string, string>;
    expect(step.state).toBe('failed');
    expect(p.verdict).toBe('fail');
    const run = await prisma.validationRun.findUniqueOrThrow({ where: { id: p.validationRunId } });
    expect(run).toMatchObject({ state: 'failed', verdict: 'fail', nodeId: s.node.id });
    expect(step.error).toContain(run.summary!.slice(0, 40));
    expect(s.agent.serving).toBe(s.serving.digest);
    expect(await prisma.upgradeProposal.count({ where: { artifactId: s.candidate.id } })).toBe(0);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('cancelling the run mid-load cancels the load command and puts the node back', async () => {
    const s = await scene();
    s.agent.hang.add(s.candidate.digest);
    const done = executePipelineStep(deps(), s.step.id, { isFinalAttempt: true });
    await waitFor(async () => (await commandsOf(s.node.id)).length === 1);
    await prisma.pipelineRun.update({ where: { id: s.run.id }, data: { cancelRequestedAt: new Date() } });
    expect(await done).toBe('cancelled');
    const cmds = await commandsOf(s.node.id);
    expect(cmds.map((c) => [c.kind, c.state])).toEqual([
      ['load_artifact', 'cancelled'],
      ['load_artifact', 'succeeded'],
    ]);
    expect(JSON.stringify(cmds[1]!.payload)).toContain(s.serving.digest);
    expect((await stepOf(s.step.id)).state).toBe('cancelled');
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('an expired load fails the step and puts the node back', async () => {
    const s = await scene();
    s.agent.hang.add(s.candidate.digest);
    const done = executePipelineStep(deps(), s.step.id, { isFinalAttempt: true });
    await waitFor(async () => (await commandsOf(s.node.id)).length === 1);
    // The sweeper runs past the load's deadline.
    const [load] = await commandsOf(s.node.id);
    await sweepNodeCommands(prisma, { now: new Date(load!.deadlineAt.getTime() + 1000) });
    await expect(done).rejects.toThrow(/Loading the candidate on staging node "stage-[0-9a-f]+" expired/);
    await waitFor(async () => s.agent.serving === s.serving.digest && (await commandsOf(s.node.id)).length === 2);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('a worker killed (kill -9) mid-wait: the re-delivered step resumes its lease and its load command, issuing nothing twice', async () => {
    const s = await scene();
    s.agent.hang.add(s.candidate.digest);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./testing/run-step-child.ts', import.meta.url))], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), STEP_ID: s.step.id, HUB_URL: 'http://127.0.0.1:9', DATA_DIR: '/tmp' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(
      async () => (await commandsOf(s.node.id)).length === 1,
      60_000,
      () => stderr,
    );
    child.kill('SIGKILL');
    await exited;
    const lease = await prisma.stagingNodeLease.findUniqueOrThrow({ where: { nodeId: s.node.id } });
    expect(lease.holderStepId).toBe(s.step.id);
    // The agent answers now; the job is delivered again (the worker's stalled-job check) to a new worker.
    s.agent.hang.clear();
    expect(await executePipelineStep(deps(), s.step.id, { isFinalAttempt: true })).toBe('succeeded');
    const cmds = await commandsOf(s.node.id);
    expect(cmds.map((c) => [c.kind, c.state])).toEqual([
      ['load_artifact', 'succeeded'],
      ['load_artifact', 'succeeded'],
    ]);
    expect(s.agent.handled.filter((h) => h.digest === s.candidate.digest)).toHaveLength(1);
    expect((await stepOf(s.step.id)).attempts).toBe(2);
    expect(await prisma.validationRun.count({ where: { pipelineStepId: s.step.id } })).toBe(1);
    expect(s.agent.serving).toBe(s.serving.digest);
  }, 90_000);

  it('the sweep puts back a node whose step will not come back for it, then releases the lease', async () => {
    const s = await scene();
    // The step failed for good after taking the node (its worker died with the candidate loaded).
    s.agent.serving = s.candidate.digest;
    await s.agent.reportState('ready');
    await prisma.pipelineStep.update({ where: { id: s.step.id }, data: { state: 'failed', error: 'worker lost' } });
    const past = new Date(Date.now() - 1000);
    await prisma.stagingNodeLease.create({
      data: {
        nodeId: s.node.id,
        clusterId: s.cluster.id,
        holderStepId: s.step.id,
        pipelineRunId: s.run.id,
        candidateArtifactId: s.candidate.id,
        restoreKind: 'load',
        restoreArtifactId: s.serving.id,
        restoreReason: 'test',
        acquiredAt: new Date(Date.now() - 60_000),
        expiresAt: past,
      },
    });
    expect(await sweepStagingLeases(prisma)).toMatchObject({ restoring: 1, released: 0 });
    await waitFor(async () => s.agent.serving === s.serving.digest);
    // A second pass issues nothing more and releases the lease.
    expect(await sweepStagingLeases(prisma)).toMatchObject({ restoring: 0, released: 1 });
    expect(await commandsOf(s.node.id)).toHaveLength(1);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('a failed restore says so on the step, keeps the lease and opens an alert naming the node, the artifact and the reason, resolved once the node serves it again', async () => {
    const s = await scene();
    s.agent.failLoad.set(s.serving.digest, 'no space left on device');
    const reason = 'load the previous artifact failed: no space left on device';
    await expect(executePipelineStep(deps(), s.step.id, { isFinalAttempt: true })).rejects.toThrow(
      `Staging node ${s.node.hostname} could not be put back (${reason})`,
    );
    const step = await stepOf(s.step.id);
    expect(step.state).toBe('failed');
    expect(step.progress).toMatchObject({ phase: 'restoring', restoreError: reason });
    expect(await prisma.stagingNodeLease.findUniqueOrThrow({ where: { nodeId: s.node.id } })).toMatchObject({
      phase: 'restore_failed',
      restoreError: reason,
      restoreArtifactId: s.serving.id,
    });
    // The node still serves the candidate.
    expect(s.agent.serving).toBe(s.candidate.digest);

    await evaluateFleetHealth(prisma, { holdDownSeconds: 0 });
    const fingerprint = `node:${s.node.id}:staging_restore_failed`;
    const alert = await prisma.alert.findFirstOrThrow({ where: { fingerprint } });
    expect(alert).toMatchObject({ state: 'open', rule: 'staging_restore_failed', severity: 'critical', nodeId: s.node.id });
    expect(alert.title).toBe(`${s.node.hostname} was not put back after a staging validation`);
    expect(alert.details).toMatchObject({ hostname: s.node.hostname, expectedDigest: s.serving.digest, reason });
    expect((alert.details as { message: string }).message).toContain(s.serving.digest.slice(0, 12));
    // A second pass while the node is still not back keeps the one alert open.
    await evaluateFleetHealth(prisma, { holdDownSeconds: 0 });
    expect(await prisma.alert.findMany({ where: { fingerprint }, select: { state: true } })).toEqual([{ state: 'open' }]);
    // The sweep does not release the lease of a node that is not back.
    await sweepStagingLeases(prisma);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).not.toBeNull();

    // The node serves the expected artifact again (an operator loaded it): the alert resolves, the lease goes.
    s.agent.serving = s.serving.digest;
    await s.agent.reportState('ready');
    await evaluateFleetHealth(prisma, { holdDownSeconds: 0 });
    expect(await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({ state: 'resolved' });
    expect((await sweepStagingLeases(prisma)).released).toBeGreaterThanOrEqual(1);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: s.node.id } })).toBeNull();
  }, 60_000);

  it('the sweep records a failed restore of a step that will not come back on the lease, so its alert opens', async () => {
    const s = await scene();
    s.agent.serving = s.candidate.digest;
    await s.agent.reportState('ready');
    s.agent.failLoad.set(s.serving.digest, 'artifact files missing from the store');
    await prisma.pipelineStep.update({ where: { id: s.step.id }, data: { state: 'failed', error: 'worker lost' } });
    await prisma.stagingNodeLease.create({
      data: {
        nodeId: s.node.id,
        clusterId: s.cluster.id,
        holderStepId: s.step.id,
        pipelineRunId: s.run.id,
        candidateArtifactId: s.candidate.id,
        restoreKind: 'load',
        restoreArtifactId: s.serving.id,
        restoreReason: 'test',
        acquiredAt: new Date(Date.now() - 60_000),
        expiresAt: new Date(Date.now() - 1000),
      },
    });
    expect(await sweepStagingLeases(prisma)).toMatchObject({ restoring: 1 });
    await waitFor(async () => (await commandsOf(s.node.id)).some((c) => c.state === 'failed'));
    const second = await sweepStagingLeases(prisma);
    expect(second.failed).toContain(`${s.node.id}: restore failed: artifact files missing from the store`);
    expect(await prisma.stagingNodeLease.findUniqueOrThrow({ where: { nodeId: s.node.id } })).toMatchObject({
      phase: 'restore_failed',
      restoreError: 'restore failed: artifact files missing from the store',
    });
    await evaluateFleetHealth(prisma, { holdDownSeconds: 0 });
    expect(
      await prisma.alert.findFirst({ where: { fingerprint: `node:${s.node.id}:staging_restore_failed`, state: 'open' } }),
    ).not.toBeNull();
  }, 60_000);
});
