// The validate stage against the real agent: the staging node is an enrolled node whose agent (the esbuild
// bundle as a process, over HTTP to the real agent API on the test database) loads the candidate through the
// artifact route and launches the reference endpoint on it through the node's launch template. The gating
// suite measures that engine; afterwards the agent loads back what the node served before.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { executePipelineStep, syncSuites, updateNodeEngineTemplate } from '@fleetplane/services';
import { makeStoredArtifact } from '@fleetplane/services/artifacts/test-support';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { makeNode } from '@fleetplane/services/telemetry/test-support';
import { freePort, referenceEngineTemplate, until, useRealAgent } from './real-agent-test-support';

const setup = useRealAgent();
const { prisma, runtimeOf } = setup;
const suiteName = `vstage-agent-${randomBytes(3).toString('hex')}`;
const SERVED = 'flash';

beforeAll(async () => {
  await allowLoopbackForTests(prisma);
  await syncSuites(prisma, [
    { name: suiteName, version: 1, checks: [{ key: 'endpoint', kind: 'endpoint', required: true, params: {}, thresholds: {} }] } as never,
  ]);
});

describe('the validate step with the real agent on the staging node', () => {
  it('loads the candidate through the artifact route, passes the gating suite against its engine, loads back what the node served and proposes the upgrade', async () => {
    const node = await makeNode(prisma, 0);
    await prisma.cluster.update({
      where: { id: node.clusterId },
      data: {
        stagingNodeId: node.nodeId,
        gatingSuiteName: suiteName,
        servedModelName: SERVED,
        endpointUrl: 'http://127.0.0.1:9',
        validationConcurrencyCap: 4,
      },
    });
    await prisma.node.update({
      where: { id: node.nodeId },
      data: { health: 'healthy', lastSeenAt: new Date(), reportIntervalSeconds: 3600 },
    });
    await updateNodeEngineTemplate(setup.ctx, { nodeId: node.nodeId, engineLaunchTemplate: referenceEngineTemplate(SERVED) });
    const config = Buffer.from('{"model_type":"deepseek_v4"}');
    const serving = await makeStoredArtifact(prisma, setup.harness.work, {
      'config.json': config,
      'model.safetensors': randomBytes(64 * 1024),
    });
    const candidate = await makeStoredArtifact(
      prisma,
      setup.harness.work,
      { 'config.json': config, 'model.safetensors': randomBytes(64 * 1024) },
      { trackedRepoId: serving.trackedRepoId },
    );
    await prisma.artifact.updateMany({ where: { id: { in: [serving.id, candidate.id] } }, data: { status: 'ready' } });
    await prisma.deployment.create({ data: { clusterId: node.clusterId, artifactId: serving.id, state: 'active' } });

    // The node serves the cluster's artifact when the step starts, loaded by its agent like any other.
    const agent = setup.harness.startAgent(setup.harness.agentDirs(node), await freePort());
    expect(await setup.loadArtifact(node.nodeId, serving.id)).toMatchObject({ state: 'succeeded', error: null });
    await until('the node state to show the serving artifact', async () => {
      const rs = await runtimeOf(node.nodeId);
      return rs?.servedArtifactDigest === serving.digest && rs.engineState === 'ready';
    });

    const run = await prisma.pipelineRun.create({
      data: { revisionId: candidate.revisionId, targetKey: node.clusterId, trigger: 'auto', state: 'running' },
    });
    await prisma.pipelineStep.create({
      data: { runId: run.id, kind: 'download', targetKey: 'default', position: 0, state: 'succeeded', artifactId: candidate.id },
    });
    const step = await prisma.pipelineStep.create({
      data: {
        runId: run.id,
        kind: 'validate',
        targetKey: 'upstream',
        position: 1,
        state: 'queued',
        spec: { clusterId: node.clusterId, candidate: { kind: 'download', targetKey: 'default' } },
      },
    });

    const outcome = await executePipelineStep(
      { prisma, cancelPollMs: 100, validate: { commandWaitSliceMs: 500, leaseRenewMs: 200 } },
      step.id,
      { isFinalAttempt: true },
    );
    const done = await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(done.error).toBeNull();
    expect(outcome).toBe('succeeded');
    const p = done.progress as Record<string, string>;
    expect(p).toMatchObject({ phase: 'done', nodeId: node.nodeId, verdict: 'pass' });

    // The gating suite measured the candidate on the agent's engine.
    const vrun = await prisma.validationRun.findUniqueOrThrow({ where: { id: p.validationRunId } });
    expect(vrun).toMatchObject({
      state: 'succeeded',
      verdict: 'pass',
      nodeId: node.nodeId,
      artifactId: candidate.id,
      pipelineStepId: step.id,
    });
    expect(vrun.endpointUrl).toBe(`http://127.0.0.1:${agent.port}`);

    // Candidate loaded, then the serving artifact loaded back, both by the agent.
    const cmds = await prisma.nodeCommand.findMany({ where: { nodeId: node.nodeId }, orderBy: { issuedAt: 'asc' } });
    expect(cmds.map((c) => [c.kind, c.state, c.artifactId, c.origin])).toEqual([
      ['load_artifact', 'succeeded', serving.id, 'test'],
      ['load_artifact', 'succeeded', candidate.id, `pipeline_step:${step.id}`],
      ['load_artifact', 'succeeded', serving.id, `pipeline_step:${step.id}`],
    ]);
    expect(cmds[1]!.result).toMatchObject({ artifactDigest: candidate.digest, servedModelIds: [SERVED] });
    expect(
      agent
        .logs()
        .filter((l) => l.msg === 'running command')
        .map((l) => l.commandId),
    ).toEqual(cmds.map((c) => c.id));

    // The node is back on what it served, the lease released, the upgrade proposed.
    await until('the node state to show the serving artifact again', async () => {
      const rs = await runtimeOf(node.nodeId);
      return rs?.servedArtifactDigest === serving.digest && rs.engineState === 'ready';
    });
    const models = (await (await fetch(`http://127.0.0.1:${agent.port}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual([SERVED]);
    expect(await prisma.stagingNodeLease.findUnique({ where: { nodeId: node.nodeId } })).toBeNull();
    const proposal = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.proposalId } });
    expect(proposal).toMatchObject({ artifactId: candidate.id, clusterId: node.clusterId, state: 'pending_approval' });

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 240_000);
});
