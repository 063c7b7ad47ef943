// A rollout with the real agent: the cluster's one node (the canary) runs the agent bundle as a process over
// HTTP to the real agent API on the test database (commands, node state, artifact files, telemetry). The
// rollout's load_artifact is executed by that agent (download through the artifact route, the reference
// endpoint relaunched on the new artifact through the node's launch template), and the canary analysis
// reads the engine samples the agent scraped from the engine's /metrics while requests flow to it.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TRolloutPolicy } from '@fleetplane/contracts';
import { updateNodeEngineTemplate } from '../engine/engine-settings.service';
import { freePort, makeStoredArtifact, referenceEngineTemplate, until, useRealAgent } from '../node-commands/real-agent-test-support';
import { makeNode } from '../telemetry/test-support';
import { advanceRollouts } from './rollout-tick.service';
import { startRollout } from './rollouts.service';

const setup = useRealAgent({ roles: ['approver'] });
const { prisma, runtimeOf } = setup;
const SERVED = 'flash';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const policy: TRolloutPolicy = {
  canaryNodes: 1,
  canarySharePct: null,
  waves: 1,
  // Each check reads the last interval's scrapes and needs two of one engine to measure a delta; the agent
  // scrapes and reports every 2 s, so 6 s holds at least two reported samples.
  analysisIntervalSeconds: 6,
  analysisChecks: 2,
  failureLimit: 0,
  maxTtftP99Ratio: 1.5,
  maxTtftP99Seconds: null,
  maxErrorRatePct: 1,
  minTokensPerSecondRatio: 0,
  failOnNoTraffic: true,
  autoRolloutOnApproval: false,
};

describe('a rollout with the real agent on the canary', () => {
  it('the agent loads the new artifact, the canary analysis passes on its scraped engine samples, the rollout succeeds', async () => {
    const node = await makeNode(prisma, 0);
    await prisma.cluster.update({ where: { id: node.clusterId }, data: { servedModelName: SERVED, rolloutPolicy: policy } });
    await prisma.node.update({
      where: { id: node.nodeId },
      data: { health: 'healthy', lastSeenAt: new Date(), reportIntervalSeconds: 2 },
    });
    // TTFT well inside one vLLM bucket (0.1–0.25 s), so a loaded test machine's jitter does not move p99.
    await updateNodeEngineTemplate(setup.ctx, {
      nodeId: node.nodeId,
      engineLaunchTemplate: referenceEngineTemplate(SERVED, { ttftMs: 150 }),
    });
    const config = Buffer.from('{"model_type":"deepseek_v4"}');
    const before = await makeStoredArtifact(prisma, setup.harness.work, {
      'config.json': config,
      'model.safetensors': randomBytes(64 * 1024),
    });
    const next = await makeStoredArtifact(
      prisma,
      setup.harness.work,
      { 'config.json': config, 'model.safetensors': randomBytes(64 * 1024) },
      { trackedRepoId: before.trackedRepoId },
    );
    await prisma.artifact.updateMany({ where: { id: { in: [before.id, next.id] } }, data: { status: 'ready' } });
    await prisma.deployment.create({ data: { clusterId: node.clusterId, artifactId: before.id, state: 'active' } });
    await prisma.deployment.create({ data: { clusterId: node.clusterId, nodeId: node.nodeId, artifactId: before.id, state: 'active' } });

    // The node serves the current artifact, loaded by its agent; the agent scrapes the engine's /metrics.
    const port = await freePort();
    const agent = setup.harness.startAgent(setup.harness.agentDirs(node), port, ['--metrics-url', `http://127.0.0.1:${port}/metrics`]);
    expect(await setup.loadArtifact(node.nodeId, before.id)).toMatchObject({ state: 'succeeded', error: null });

    // Requests to the engine, one at a time, for the whole test (refused while the engine restarts).
    let trafficOn = true;
    const traffic = (async () => {
      while (trafficOn) {
        await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: SERVED, max_tokens: 4, messages: [{ role: 'user', content: 'ping' }] }),
        }).then(
          (r) => r.text(),
          () => null,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      // Baseline samples of the current artifact, scraped and sent by the agent.
      await until('engine samples from the agent', async () => (await prisma.engineSample.count({ where: { nodeId: node.nodeId } })) >= 3);

      const evidenceDigest = sha(`evidence-${next.id}`);
      const proposal = await prisma.upgradeProposal.create({
        data: {
          clusterId: node.clusterId,
          artifactId: next.id,
          artifactDigest: next.digest,
          evidenceDigest,
          requestedById: setup.userId('operator'),
          state: 'approved',
          expiresAt: new Date(Date.now() + 86_400_000),
          decidedAt: new Date(),
        },
      });
      await prisma.approval.create({
        data: {
          proposalId: proposal.id,
          approverId: setup.userId('approver'),
          decision: 'approve',
          artifactDigest: next.digest,
          evidenceDigest,
        },
      });
      const started = await startRollout(setup.ctx, { proposalId: proposal.id });
      expect(started.steps).toEqual([[node.nodeId]]);

      const deadline = Date.now() + 120_000;
      let end;
      for (;;) {
        await advanceRollouts(prisma);
        const r = await prisma.rollout.findUniqueOrThrow({ where: { id: started.id } });
        if (['succeeded', 'rolled_back', 'aborted', 'failed'].includes(r.state)) {
          end = r;
          break;
        }
        if (Date.now() > deadline) throw new Error(`rollout stuck in ${r.state}: ${r.reason}`);
        await new Promise((res) => setTimeout(res, 250));
      }
      expect(end.state, end.reason ?? undefined).toBe('succeeded');
      // Both canary checks measured real requests from the agent's scrapes.
      const checks = await prisma.rolloutAnalysisResult.findMany({ where: { rolloutId: started.id }, orderBy: { checkNo: 'asc' } });
      expect(checks.map((c) => [c.step, c.checkNo, c.passed])).toEqual([
        [0, 1, true],
        [0, 2, true],
      ]);
      for (const c of checks) expect((c.metrics as { canaryRequests: number | null }).canaryRequests).toBeGreaterThan(0);

      // The agent executed the rollout's prefetch (the download) and load: the node serves the new artifact.
      const cmds = await prisma.nodeCommand.findMany({ where: { nodeId: node.nodeId }, orderBy: { issuedAt: 'asc' } });
      expect(cmds.map((c) => [c.kind, c.state, c.artifactId])).toEqual([
        ['load_artifact', 'succeeded', before.id],
        ['prefetch_artifact', 'succeeded', next.id],
        ['load_artifact', 'succeeded', next.id],
      ]);
      expect(cmds[1]!.result).toMatchObject({ digest: next.digest, alreadyComplete: false });
      expect(cmds[2]!.result).toMatchObject({ artifactDigest: next.digest, servedModelIds: [SERVED] });
      const ran = agent
        .logs()
        .filter((l) => l.msg === 'running command')
        .map((l) => l.commandId);
      expect(ran).toEqual(cmds.map((c) => c.id));
      await until('the node state to show the new artifact', async () => {
        const rs = await runtimeOf(node.nodeId);
        return rs?.servedArtifactDigest === next.digest && rs.engineState === 'ready';
      });
      expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: proposal.id } })).state).toBe('rolled_out');
    } finally {
      trafficOn = false;
      await traffic;
    }
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 300_000);
});
