// A rollout with the real agent: the cluster's one node (the canary) runs the agent bundle as a process over
// HTTP to the real agent API on the test database (commands, node state, artifact files, telemetry). The
// rollout's load_artifact is executed by that agent (download through the artifact route, the reference
// endpoint relaunched on the new artifact through the node's launch template), and the canary analysis
// reads the engine samples the agent scraped from the engine's /metrics while requests flow to it. The second test
// runs two such nodes and SIGKILLs the wave node's agent while its load is in flight (issue 15: an agent killed
// mid-rollout), with the same expectations as the simulated agent's test in rollouts.integration.test.ts.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TRolloutPolicy } from '@fleetplane/contracts';
import { advanceRollouts, startRollout, updateNodeEngineTemplate } from '@fleetplane/services';
import { makeStoredArtifact } from '@fleetplane/services/artifacts/test-support';
import { makeNode } from '@fleetplane/services/telemetry/test-support';
import { freePort, referenceEngineTemplate, until, useRealAgent } from './real-agent-test-support';

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

/** Requests to the engines, one at a time per engine, until stopped (refused while an engine restarts). */
function trafficTo(ports: number[]): { stop: () => Promise<void> } {
  let on = true;
  const loops = ports.map(async (port) => {
    while (on) {
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
  });
  return {
    stop: async () => {
      on = false;
      await Promise.all(loops);
    },
  };
}

/** An approved proposal of `artifact` for the cluster: requested by the operator, approved by the approver. */
async function approvedProposal(clusterId: string, artifact: { id: string; digest: string }) {
  const evidenceDigest = sha(`evidence-${artifact.id}`);
  const proposal = await prisma.upgradeProposal.create({
    data: {
      clusterId,
      artifactId: artifact.id,
      artifactDigest: artifact.digest,
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
      artifactDigest: artifact.digest,
      evidenceDigest,
    },
  });
  return proposal;
}

/** Ticks the rollout (as the worker's repeatable job does) until it ends; `onTick` sees each state on the way. */
async function tickToEnd(rolloutId: string, timeoutMs: number, onTick: (state: string) => Promise<void> = async () => {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await advanceRollouts(prisma);
    const r = await prisma.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
    if (['succeeded', 'rolled_back', 'aborted', 'failed'].includes(r.state)) return r;
    await onTick(r.state);
    if (Date.now() > deadline) throw new Error(`rollout stuck in ${r.state}: ${r.reason}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

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

  it("the wave node's agent is SIGKILLed while its load is in flight: the step fails saying why, the canary is rolled back, the killed node once its agent returns, nothing stays stuck", async () => {
    const canary = await makeNode(prisma, 0);
    const wave = await makeNode(prisma, 0, { clusterId: canary.clusterId });
    // This test is about the kill, not the analysis: a canary comparison loose enough for a loaded shared machine.
    await prisma.cluster.update({
      where: { id: canary.clusterId },
      data: { servedModelName: SERVED, rolloutPolicy: { ...policy, maxTtftP99Ratio: 4 } },
    });
    for (const n of [canary, wave])
      await prisma.node.update({
        where: { id: n.nodeId },
        data: { health: 'healthy', lastSeenAt: new Date(), reportIntervalSeconds: 2, labels: n === canary ? { canary: 'true' } : {} },
      });
    await updateNodeEngineTemplate(setup.ctx, {
      nodeId: canary.nodeId,
      engineLaunchTemplate: referenceEngineTemplate(SERVED, { ttftMs: 150 }),
    });
    // The wave node's engine takes 5 s to load a model (the stand-in's --load-ms): its load is in flight that long.
    await updateNodeEngineTemplate(setup.ctx, {
      nodeId: wave.nodeId,
      engineLaunchTemplate: `${referenceEngineTemplate(SERVED, { ttftMs: 150 })} --load-ms 5000`,
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
    await prisma.deployment.create({ data: { clusterId: canary.clusterId, artifactId: before.id, state: 'active' } });

    const ports = [await freePort(), await freePort()];
    const agents = [canary, wave].map((n, i) => {
      const dirs = setup.harness.agentDirs(n);
      return {
        node: n,
        dirs,
        port: ports[i]!,
        proc: setup.harness.startAgent(dirs, ports[i]!, ['--metrics-url', `http://127.0.0.1:${ports[i]}/metrics`]),
      };
    });
    const [a, b] = agents as [(typeof agents)[number], (typeof agents)[number]];
    for (const x of agents) expect(await setup.loadArtifact(x.node.nodeId, before.id)).toMatchObject({ state: 'succeeded' });
    const traffic = trafficTo(ports);
    let killedWhile: string | null = null;
    let end;
    try {
      await until('engine samples from both agents', async () => {
        const counts = await Promise.all(agents.map((x) => prisma.engineSample.count({ where: { nodeId: x.node.nodeId } })));
        return counts.every((c) => c >= 2);
      });
      const proposal = await approvedProposal(canary.clusterId, next);
      const started = await startRollout(setup.ctx, { proposalId: proposal.id });
      expect(started.steps).toEqual([[canary.nodeId], [wave.nodeId]]);

      end = await tickToEnd(started.id, 180_000, async () => {
        if (killedWhile) return;
        const rn = await prisma.rolloutNode.findUniqueOrThrow({
          where: { rolloutId_nodeId: { rolloutId: started.id, nodeId: wave.nodeId } },
        });
        if (!rn.loadCommandId) return;
        const load = await prisma.nodeCommand.findUniqueOrThrow({ where: { id: rn.loadCommandId } });
        // The agent has taken the load (delivered) or is running it (download, engine start): kill -9, no goodbye.
        if (load.state === 'delivered' || load.state === 'running') {
          b.proc.child.kill('SIGKILL');
          killedWhile = `${load.state} (${JSON.stringify(load.progress)})`;
        }
      });
    } finally {
      await traffic.stop();
    }
    expect(killedWhile, `the wave load was never seen in flight; the rollout ended ${end?.state}: ${end?.reason}`).not.toBeNull();
    expect(await b.proc.exited).toBeNull();

    // The step fails safely and says why; the canary (online) is back on the previous artifact; the killed node is
    // marked as not confirmed, and the cluster is free for the next rollout.
    expect(end.state, end.reason ?? undefined).toBe('failed');
    expect(end.reason).toMatch(new RegExp(`wave 1 failed: ${wave.hostname} went offline while loading`));
    expect(end.reason).toMatch(/offline: the rollback command runs when its agent returns/);
    expect(end.activeClusterId).toBeNull();
    const nodes = await prisma.rolloutNode.findMany({ where: { rolloutId: end.id }, select: { nodeId: true, state: true } });
    expect(Object.fromEntries(nodes.map((n) => [n.nodeId, n.state]))).toEqual({ [canary.nodeId]: 'rolled_back', [wave.nodeId]: 'failed' });
    await until('the canary to serve the previous artifact again', async () => {
      const rs = await runtimeOf(canary.nodeId);
      return rs?.servedArtifactDigest === before.digest && rs.engineState === 'ready';
    });

    // The agent comes back (same state directory and engine port) and runs what was queued for it, in order: the
    // interrupted load, then the rollback. The node serves the previous artifact, and no command stays open.
    const back = setup.harness.startAgent(b.dirs, b.port, ['--metrics-url', `http://127.0.0.1:${b.port}/metrics`]);
    const settled = async () => {
      const rs = await runtimeOf(wave.nodeId);
      const open = await prisma.nodeCommand.count({ where: { nodeId: wave.nodeId, state: { in: ['queued', 'delivered', 'running'] } } });
      return rs?.servedArtifactDigest === before.digest && rs.engineState === 'ready' && open === 0;
    };
    await until('the killed node to serve the previous artifact and close its commands', settled, 120_000).catch(async (e: Error) => {
      const cmds = await prisma.nodeCommand.findMany({ where: { nodeId: wave.nodeId }, orderBy: { issuedAt: 'asc' } });
      const rs = await runtimeOf(wave.nodeId);
      throw new Error(
        `${e.message}; killed while ${killedWhile}; engine ${rs?.engineState} serving ${rs?.servedArtifactDigest?.slice(0, 12)}; commands ${JSON.stringify(
          cmds.map((c) => [c.kind, c.artifactId === before.id ? 'before' : 'next', c.state, c.deliveries, c.error]),
        )}; agent log ${JSON.stringify(back.logs().slice(-15))}`,
      );
    });
    const cmds = await prisma.nodeCommand.findMany({ where: { nodeId: wave.nodeId }, orderBy: { issuedAt: 'asc' } });
    expect(cmds.map((c) => [c.kind, c.artifactId])).toEqual([
      ['load_artifact', before.id],
      ['prefetch_artifact', next.id],
      ['load_artifact', next.id],
      ['load_artifact', before.id],
    ]);
    expect(cmds.at(-1)!.state).toBe('succeeded');
    back.child.kill('SIGTERM');
    a.proc.child.kill('SIGTERM');
    expect(await back.exited).toBe(0);
  }, 400_000);
});
