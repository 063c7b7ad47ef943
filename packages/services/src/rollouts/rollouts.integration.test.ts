import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZAgentCommand, type TRolloutPolicy } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { startReferenceEndpoint, type TReferenceEndpoint } from '@fleetplane/reference-endpoint';
import type { AuditActor } from '../context';
import { getProposal } from '../proposals/proposals.service';
import { advanceRollouts } from './rollout-tick.service';
import { actOnRollout, clusterDeploymentHistory, getRollout, nodeProvenance, rollbackToDeployment, startRollout } from './rollouts.service';

/**
 * Rollouts end to end on real Postgres, against simulated agents: each node has a real vLLM-protocol
 * reference endpoint under real traffic; its "agent" executes the node's commands from node_command (as the
 * command loop does) and stores engine samples scraped from the endpoint's real /metrics (as the agent's
 * scrape does). Loading the bad artifact makes that node's engine slow (the endpoint's added latency).
 */

let prisma: PrismaClient;
const tag = randomBytes(3).toString('hex');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Minimal reading of the endpoint's exposition: TTFT buckets, finished / failed requests, generated tokens. */
function parseVllmMetrics(text: string) {
  const value = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const buckets = [...text.matchAll(/^vllm:time_to_first_token_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm)]
    .filter((m) => m[1] !== '+Inf')
    .map((m) => ({ le: Number(m[1]), count: Number(m[2]) }));
  return {
    ttftBuckets: buckets,
    ttftSecondsCount: value(/^vllm:time_to_first_token_seconds_count\{[^}]*\} (\S+)$/gm),
    requestsFinishedTotal: value(/^vllm:request_success_total\{[^}]*\} (\S+)$/gm),
    requestsFailedTotal: value(/^vllm:request_success_total\{[^}]*finished_reason="(?:abort|error)"[^}]*\} (\S+)$/gm),
    generationTokensTotal: value(/^vllm:generation_tokens_total\{[^}]*\} (\S+)$/gm),
  };
}

class SimAgent {
  serving: string | null;
  running = false;
  private timers: NodeJS.Timeout[] = [];
  private trafficOn = false;
  constructor(
    readonly nodeId: string,
    readonly clusterId: string,
    readonly ep: TReferenceEndpoint,
    initialDigest: string,
    private badDigests: Set<string>,
  ) {
    this.serving = initialDigest;
  }
  start() {
    this.running = true;
    this.trafficOn = true;
    this.timers.push(setInterval(() => void this.poll().catch(() => {}), 100));
    this.timers.push(setInterval(() => void this.scrape().catch(() => {}), 200));
    void this.traffic();
  }
  /** The agent process is gone: no heartbeat, no commands, no scrapes (the engine keeps serving). */
  kill() {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
  stop() {
    this.kill();
    this.trafficOn = false;
  }
  /** Nobody sends the engine requests any more (the agent keeps polling and scraping). */
  quiet() {
    this.trafficOn = false;
  }
  busy() {
    if (this.trafficOn) return;
    this.trafficOn = true;
    void this.traffic();
  }
  private async traffic() {
    // Bounded: stops with the agent; one request at a time, to loopback only.
    while (this.trafficOn) {
      await fetch(`${this.ep.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: this.ep.options.servedModelName, max_tokens: 4, messages: [{ role: 'user', content: 'ping' }] }),
      }).then(
        (r) => r.text(),
        () => null,
      );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  private async poll() {
    if (!this.running) return;
    await prisma.node.update({ where: { id: this.nodeId }, data: { lastSeenAt: new Date() } });
    const cmds = await prisma.nodeCommand.findMany({
      where: { nodeId: this.nodeId, state: { in: ['queued', 'delivered'] } },
      orderBy: { issuedAt: 'asc' },
    });
    for (const c of cmds) {
      if (!this.running) return;
      const body = ZAgentCommand.parse({ kind: c.kind, payload: c.payload });
      if (body.kind === 'load_artifact') {
        this.serving = body.payload.artifact.digest;
        if (this.badDigests.has(this.serving)) this.ep.setDegradations({ addedLatencyMs: 600 });
        else this.ep.resetDegradations();
      }
      if (body.kind === 'stop_engine') this.serving = null;
      await prisma.nodeCommand.update({
        where: { id: c.id },
        data: { state: 'succeeded', finishedAt: new Date(), result: { servedDigest: this.serving } },
      });
    }
  }
  private async scrape() {
    if (!this.running) return;
    const m = parseVllmMetrics(await this.ep.metricsText());
    await prisma.engineSample.create({ data: { nodeId: this.nodeId, clusterId: this.clusterId, sampledAt: new Date(), ...m } });
  }
}

const policy: TRolloutPolicy = {
  canaryNodes: 1,
  canarySharePct: null,
  waves: 1,
  analysisIntervalSeconds: 1,
  analysisChecks: 2,
  failureLimit: 0,
  maxTtftP99Ratio: 1.5,
  maxTtftP99Seconds: null,
  maxErrorRatePct: 1,
  minTokensPerSecondRatio: 0,
  failOnNoTraffic: true,
  autoRolloutOnApproval: false,
};

let clusterId: string;
let nodes: { id: string; hostname: string }[] = [];
const agents: SimAgent[] = [];
const endpoints: TReferenceEndpoint[] = [];
let operator: AuditActor;
let requester: string;
let approver: string;
let revisionId: string;
const artifacts: Record<'A' | 'B' | 'C' | 'D', { id: string; digest: string }> = {} as never;
const bad = new Set<string>();

async function makeArtifact(name: string) {
  const digest = sha(`${tag}-${name}`);
  const a = await prisma.artifact.create({
    data: {
      revisionId,
      format: 'safetensors',
      quantisation: name,
      sizeBytes: 10n,
      digest,
      storageUri: `file:///tmp/${tag}/${name}`,
      files: { create: [{ path: 'model.safetensors', sizeBytes: 10n, sha256: sha(`${name}-file`) }] },
    },
  });
  return { id: a.id, digest };
}

async function approvedProposal(artifact: { id: string; digest: string }) {
  const p = await prisma.upgradeProposal.create({
    data: {
      clusterId,
      artifactId: artifact.id,
      artifactDigest: artifact.digest,
      evidenceDigest: sha(`evidence-${artifact.id}`),
      requestedById: requester,
      state: 'approved',
      expiresAt: new Date(Date.now() + 86_400_000),
      decidedAt: new Date(),
    },
  });
  await prisma.approval.create({
    data: {
      proposalId: p.id,
      approverId: approver,
      decision: 'approve',
      artifactDigest: artifact.digest,
      evidenceDigest: sha(`evidence-${artifact.id}`),
    },
  });
  return p;
}

/** Runs the tick until the rollout ends (or onState returns and the caller acts between passes). */
async function runToEnd(id: string, onState?: (state: string) => Promise<void> | void, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await advanceRollouts(prisma);
    const r = await prisma.rollout.findUniqueOrThrow({ where: { id } });
    if (['succeeded', 'rolled_back', 'aborted', 'failed'].includes(r.state)) return r;
    await onState?.(r.state);
    if (Date.now() > deadline) throw new Error(`rollout ${id} stuck in ${r.state}: ${r.reason}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

beforeAll(async () => {
  prisma = createPrismaClient(inject('databaseUrl'));
  const mkUser = (name: string, role: 'operator' | 'approver') =>
    prisma.user.create({ data: { id: `u-${name}-${tag}`, name: `${name} ${tag}`, email: `${name}-${tag}@example.test`, role } });
  const [op, ap] = await Promise.all([mkUser('op', 'operator'), mkUser('ap', 'approver')]);
  requester = op.id;
  approver = ap.id;
  operator = { type: 'user', id: op.id, label: op.email };
  const family = await prisma.modelFamily.create({
    data: { slug: `f-${tag}`, name: `f-${tag}`, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId: `acme/r-${tag}`, filePatterns: ['*.safetensors'] },
  });
  revisionId = (
    await prisma.modelRevision.create({
      data: {
        trackedRepoId: repo.id,
        commitSha: randomBytes(20).toString('hex'),
        changeClass: 'initial',
        diff: {},
        bytesToFetch: 1n,
        totalBytes: 1n,
      },
    })
  ).id;
  for (const k of ['A', 'B', 'C', 'D'] as const) artifacts[k] = await makeArtifact(k);
  bad.add(artifacts.C.digest);
  const site = await prisma.site.create({ data: { name: `site-${tag}`, region: 'eu', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: {
      name: `c-${tag}`,
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      servedModelName: 'm',
      rolloutPolicy: policy,
    },
  });
  clusterId = cluster.id;
  nodes = await Promise.all(
    ['n1', 'n2'].map((h) =>
      prisma.node.create({
        data: { clusterId, hostname: `${h}-${tag}`, lastSeenAt: new Date(), reportIntervalSeconds: 1 },
        select: { id: true, hostname: true },
      }),
    ),
  );
  nodes.sort((a, b) => a.hostname.localeCompare(b.hostname));
  // What ran before any rollout: artifact A, cluster-wide and on each node.
  const clusterDep = await prisma.deployment.create({ data: { clusterId, artifactId: artifacts.A.id, state: 'active' } });
  for (const n of nodes) {
    await prisma.deployment.create({
      data: { clusterId, nodeId: n.id, artifactId: artifacts.A.id, state: 'active', previousDeploymentId: null },
    });
    // TTFT well inside one vLLM bucket (0.1–0.25 s), so a loaded test machine's jitter does not move p99.
    const ep = await startReferenceEndpoint({ port: 0, timing: { ttftBaseMs: 150, itlMs: 1 } });
    endpoints.push(ep);
    const agent = new SimAgent(n.id, clusterId, ep, artifacts.A.digest, bad);
    agents.push(agent);
    agent.start();
  }
  expect(clusterDep.id).toBeTruthy();
}, 60_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await Promise.all(endpoints.map((e) => e.close()));
  await prisma?.$disconnect();
});

const ctx = () => ({ prisma, actor: operator });

describe('rollouts', () => {
  it('refuses a second rollout while one is in progress, then rolls a good artifact out to every node', async () => {
    const p = await approvedProposal(artifacts.B);
    const results = await Promise.allSettled([startRollout(ctx(), { proposalId: p.id }), startRollout(ctx(), { proposalId: p.id })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.reason.message)).toMatch(/rollout in progress/);
    const id = (ok[0] as PromiseFulfilledResult<{ id: string; steps: string[][] }>).value.id;
    expect((ok[0] as PromiseFulfilledResult<{ steps: string[][] }>).value.steps).toEqual([[nodes[0]!.id], [nodes[1]!.id]]);

    const end = await runToEnd(id);
    expect(end.state, end.reason).toBe('succeeded');
    expect(agents.map((a) => a.serving)).toEqual([artifacts.B.digest, artifacts.B.digest]);
    expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } })).state).toBe('rolled_out');
    // The proposal page links to its rollout (the rollout page links back through view.proposal).
    expect((await getProposal(ctx(), p.id)).rollouts.map((x) => x.id)).toEqual([id]);
    const view = await getRollout(ctx(), id);
    expect(view.analyses.filter((a) => a.step === 0)).toHaveLength(2);
    expect(view.analyses.every((a) => a.passed)).toBe(true);
    // Every node's active deployment is B; A's are retired; the cluster deployment is active.
    const active = await prisma.deployment.findMany({ where: { clusterId, state: 'active' } });
    expect(active.map((d) => d.artifactId)).toEqual([artifacts.B.id, artifacts.B.id, artifacts.B.id]);
    expect(await prisma.auditEvent.count({ where: { action: 'rollout.start', targetId: id } })).toBe(1);
    const prov = await nodeProvenance(ctx(), nodes[0]!.id);
    expect(prov.deployment?.artifact.digest).toBe(artifacts.B.digest);
    expect(prov.deployment?.proposal?.approvals.map((a) => a.by)).toEqual([`ap ${tag}`]);
    expect(prov.deployment?.proposal?.requestedBy).toBe(`op ${tag}`);
  }, 90_000);

  it('refuses a proposal without enough valid approvals, saying why', async () => {
    const p = await approvedProposal(artifacts.D);
    await prisma.approval.updateMany({ where: { proposalId: p.id }, data: { evidenceDigest: sha('other evidence') } });
    await expect(startRollout(ctx(), { proposalId: p.id })).rejects.toThrow(
      /not enough valid approvals: It has 0 valid approvals of the 1 the cluster requires/,
    );
  });

  it('refuses an expired or a voided proposal, saying which', async () => {
    const expired = await approvedProposal(artifacts.D);
    await prisma.upgradeProposal.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 60_000) } });
    await expect(startRollout(ctx(), { proposalId: expired.id })).rejects.toThrow(/Rollout refused: .*It expired at/);
    const voided = await approvedProposal(artifacts.D);
    await prisma.upgradeProposal.update({ where: { id: voided.id }, data: { state: 'voided' } });
    await expect(startRollout(ctx(), { proposalId: voided.id })).rejects.toThrow(/Rollout refused: the proposal is voided, not approved/);
    expect(await prisma.rollout.count({ where: { proposalId: { in: [expired.id, voided.id] } } })).toBe(0);
  });

  it('rolls a degraded canary back automatically, with the metric values, and the canary serves the previous artifact again', async () => {
    const p = await approvedProposal(artifacts.C);
    const { id } = await startRollout(ctx(), { proposalId: p.id });
    const end = await runToEnd(id);
    expect(end.state, end.reason).toBe('rolled_back');
    expect(end.reason).toMatch(/canary analysis failed .*TTFT p99 [\d.]+ s > 1\.5 × previous artifact's [\d.]+ s/);
    // The canary went to C and back to B; the other node never left B.
    expect(agents.map((a) => a.serving)).toEqual([artifacts.B.digest, artifacts.B.digest]);
    const view = await getRollout(ctx(), id);
    expect(view.nodes.map((n) => [n.step, n.state])).toEqual([
      [0, 'rolled_back'],
      [1, 'prefetched'],
    ]);
    expect(view.analyses[0]!.passed).toBe(false);
    expect(view.analyses[0]!.metrics.canaryTtftP99Seconds as number).toBeGreaterThan(0.25);
    const nodeDeps = await prisma.deployment.findMany({ where: { nodeId: nodes[0]!.id, state: 'active' } });
    expect(nodeDeps.map((d) => d.artifactId)).toEqual([artifacts.B.id]);
    expect((await prisma.deployment.findFirstOrThrow({ where: { rolloutId: id, nodeId: null } })).state).toBe('rolled_back');
    expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } })).state).toBe('approved');
  }, 90_000);

  it('rolls back to an earlier deployment without a new approval, through the same canary machinery', async () => {
    const history = await clusterDeploymentHistory(ctx(), { clusterId });
    const first = history[history.length - 1]!;
    expect(first.artifact.id).toBe(artifacts.A.id);
    const { id } = await rollbackToDeployment(ctx(), { deploymentId: first.id, reason: 'B regressed a customer workload' });
    const end = await runToEnd(id);
    expect(end.state, end.reason).toBe('succeeded');
    expect(end.kind).toBe('rollback');
    expect(agents.map((a) => a.serving)).toEqual([artifacts.A.digest, artifacts.A.digest]);
    expect(await prisma.auditEvent.count({ where: { action: 'rollout.rollback.start', targetId: id } })).toBe(1);
    const after = await clusterDeploymentHistory(ctx(), { clusterId });
    expect(after.map((d) => [d.artifact.id, d.state])).toEqual([
      [artifacts.A.id, 'active'],
      [artifacts.C.id, 'rolled_back'],
      [artifacts.B.id, 'retired'],
      [artifacts.A.id, 'retired'],
    ]);
  }, 90_000);

  it('an agent killed mid-rollout fails its step safely; its node is restored once the agent returns', async () => {
    const p = await approvedProposal(artifacts.D);
    await prisma.approval.updateMany({ where: { proposalId: p.id }, data: { evidenceDigest: sha(`evidence-${artifacts.D.id}`) } });
    const { id } = await startRollout(ctx(), { proposalId: p.id });
    let killed = false;
    const end = await runToEnd(id, (state) => {
      // The canary passed and wave 1 is next: the wave node's agent dies before it receives its load.
      if (state === 'waves' && !killed) {
        agents[1]!.kill();
        killed = true;
      }
    });
    expect(killed).toBe(true);
    expect(end.state, end.reason).toBe('failed');
    expect(end.reason).toMatch(/wave 1 failed: .*went offline/);
    expect(end.reason).toMatch(/offline: the rollback command runs when its agent returns/);
    // The canary is back on A; the cluster is free for the next rollout.
    expect(agents[0]!.serving).toBe(artifacts.A.digest);
    expect((await prisma.rollout.findUniqueOrThrow({ where: { id } })).activeClusterId).toBeNull();
    // The agent comes back and runs what was queued for it, in order: load D, then the rollback to A.
    agents[1]!.start();
    await expect.poll(() => agents[1]!.serving, { timeout: 10_000 }).toBe(artifacts.A.digest);
  }, 90_000);

  it('operators pause, resume and abort; an aborted rollout rolls back', async () => {
    const p = await approvedProposal(artifacts.B);
    const { id } = await startRollout(ctx(), { proposalId: p.id });
    expect((await actOnRollout(ctx(), 'pause', { id, reason: 'change freeze' })).state).toBe('paused');
    await advanceRollouts(prisma);
    expect((await prisma.rollout.findUniqueOrThrow({ where: { id } })).state).toBe('paused');
    await expect(actOnRollout(ctx(), 'promote', { id })).rejects.toThrow(/only a rollout in an analysis window/);
    expect((await actOnRollout(ctx(), 'resume', { id })).state).toBe('pending');
    const end = await runToEnd(id, async (state) => {
      if (state === 'analysing') await actOnRollout(ctx(), 'abort', { id, reason: 'not today' });
    });
    expect(end.state, end.reason).toBe('aborted');
    expect(end.reason).toMatch(/aborted by .*: not today/);
    expect(agents[0]!.serving).toBe(artifacts.A.digest);
    expect(
      await prisma.auditEvent.count({ where: { targetId: id, action: { in: ['rollout.pause', 'rollout.resume', 'rollout.abort'] } } }),
    ).toBe(3);
  }, 90_000);

  it('a pass that can never succeed (an artifact the command contract refuses) ends the rollout with the reason', async () => {
    const a = await prisma.artifact.create({
      data: {
        revisionId,
        format: 'safetensors',
        quantisation: 'E',
        sizeBytes: 10n,
        // Not a bare sha256: the agent wire contract refuses it, so no prefetch command can ever be issued.
        digest: `sha256:${sha(`${tag}-E`)}`,
        storageUri: `file:///tmp/${tag}/E`,
        files: { create: [{ path: 'model.safetensors', sizeBytes: 10n, sha256: sha('E-file') }] },
      },
    });
    const p = await approvedProposal({ id: a.id, digest: a.digest });
    const { id } = await startRollout(ctx(), { proposalId: p.id });
    const end = await runToEnd(id, undefined, 15_000);
    expect(end.state, end.reason).toBe('rolled_back');
    expect(end.reason).toMatch(/the rollout cannot go on: a lowercase hex sha256/);
    expect(await prisma.nodeCommand.count({ where: { origin: `rollout:${id}` } })).toBe(0);
    expect(end.activeClusterId).toBeNull();
  });

  it('a canary without traffic is inconclusive: the rollout pauses instead of rolling back, and a resume analyses again', async () => {
    await prisma.cluster.update({ where: { id: clusterId }, data: { rolloutPolicy: { ...policy, failOnNoTraffic: false } } });
    agents[0]!.quiet();
    try {
      await new Promise((res) => setTimeout(res, 300)); // the last request in flight finishes
      const p = await approvedProposal(artifacts.D);
      const { id } = await startRollout(ctx(), { proposalId: p.id });
      const deadline = Date.now() + 45_000;
      let r = await prisma.rollout.findUniqueOrThrow({ where: { id } });
      while (r.state !== 'paused') {
        if (Date.now() > deadline || ['succeeded', 'rolled_back', 'aborted', 'failed', 'rolling_back'].includes(r.state))
          throw new Error(`expected an inconclusive pause, got ${r.state}: ${r.reason}`);
        await advanceRollouts(prisma);
        await new Promise((res) => setTimeout(res, 150));
        r = await prisma.rollout.findUniqueOrThrow({ where: { id } });
      }
      expect(r.pausedFrom).toBe('analysing');
      expect(r.reason).toMatch(/canary analysis inconclusive: no traffic on the canary in 2 of 2 checks/);
      // Not rolled back: the canary still serves the new artifact, waiting for a person.
      expect(agents[0]!.serving).toBe(artifacts.D.digest);
      const view = await getRollout(ctx(), id);
      expect(view.analyses.map((a) => a.passed)).toEqual([null, null]);
      expect(view.analyses[0]!.notes).toContain('no traffic on the canary: inconclusive, metrics not judged');

      // Traffic returns; a resume starts the window over and the canary passes on real measurements.
      agents[0]!.busy();
      expect((await actOnRollout(ctx(), 'resume', { id })).state).toBe('analysing');
      const end = await runToEnd(id);
      expect(end.state, end.reason).toBe('succeeded');
      const checks = (await getRollout(ctx(), id)).analyses.filter((a) => a.step === 0);
      expect(checks.map((a) => a.passed)).toEqual([null, null, true, true]);
      expect(agents.map((a) => a.serving)).toEqual([artifacts.D.digest, artifacts.D.digest]);
    } finally {
      agents[0]!.busy();
      await prisma.cluster.update({ where: { id: clusterId }, data: { rolloutPolicy: policy } });
    }
  }, 90_000);

  it('a node no rollout has touched rolls back to what its engine serves, not to nothing (its engine is not stopped)', async () => {
    // As on a node that joined after the last rollout: no deployment of its own, its agent reports serving D.
    const canary = nodes[0]!;
    await prisma.deployment.updateMany({ where: { nodeId: canary.id, state: 'active' }, data: { state: 'retired' } });
    expect(agents[0]!.serving).toBe(artifacts.D.digest);
    await prisma.nodeRuntimeState.upsert({
      where: { nodeId: canary.id },
      create: { nodeId: canary.id, observedAt: new Date(), engineState: 'ready', servedArtifactDigest: artifacts.D.digest },
      update: { observedAt: new Date(), engineState: 'ready', servedArtifactDigest: artifacts.D.digest },
    });
    const p = await approvedProposal(artifacts.C);
    const { id } = await startRollout(ctx(), { proposalId: p.id });
    const rows = await prisma.rolloutNode.findMany({ where: { rolloutId: id }, orderBy: { step: 'asc' } });
    expect(rows.map((r) => r.previousArtifactId)).toEqual([artifacts.D.id, artifacts.D.id]);
    const end = await runToEnd(id);
    expect(end.state, end.reason).toBe('rolled_back');
    // The degraded canary went to C and back to D, serving again instead of stopped.
    expect(agents.map((a) => a.serving)).toEqual([artifacts.D.digest, artifacts.D.digest]);
  }, 90_000);
});
