// Proposals and approvals against the real database: separation of duties for every role, approvals bound
// to the evidence digest, expiry, voiding by a newer revision, concurrent approvals under the row lock,
// refusals (incompatible artifact, failed validation) and the webhook message through the outbox.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type TRole } from '@fleetplane/contracts';
import { v4FlashConfig } from '@fleetplane/domain/capacity/test-support';
import { allowLoopbackForTests } from '../network/testing';
import type { ServiceContext } from '../context';
import { testDeps, unique } from '../telemetry/test-support';
import { createUpgradeProposal } from './create-proposal.service';
import { approveProposal, getProposalDecisionState, markProposalRolledOut, rejectProposal } from './decisions.service';
import { getProposal, listProposals, requestUpgradeProposal, updateClusterApprovalPolicy } from './proposals.service';
import { sweepProposals } from './sweep.service';
import { sendProposalNotification } from './proposal-webhook.service';

const deps = testDeps();
const { prisma } = deps;

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

async function user(role: TRole) {
  const id = unique(`u-${role}`);
  await prisma.user.create({ data: { id, email: `${id}@test.local`, name: `${role} ${id.slice(-4)}`, role } });
  return id;
}

function ctxFor(userId: string): ServiceContext {
  return { prisma, actor: { type: 'user', id: userId, label: userId } };
}

async function cluster(opts: { approvalsRequired?: number; expiryDays?: number } = {}) {
  const site = await prisma.site.create({ data: { name: unique('site'), region: 'eu', dataResidency: 'eu' } });
  const c = await prisma.cluster.create({
    data: {
      name: unique('cl'),
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.20.0',
      approvalsRequired: opts.approvalsRequired ?? 1,
      proposalExpiryDays: opts.expiryDays ?? 7,
    },
  });
  const node = await prisma.node.create({ data: { clusterId: c.id, hostname: unique('n') } });
  for (let i = 0; i < 8; i += 1)
    await prisma.gpu.create({
      data: { nodeId: node.id, uuid: unique('GPU'), index: i, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvswitch' },
    });
  return c;
}

async function repo() {
  const fam = await prisma.modelFamily.upsert({
    where: { slug: 'deepseek-v4-flash' },
    create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
    update: {},
  });
  return prisma.trackedRepo.create({
    data: { familyId: fam.id, hubRepoId: `deepseek-ai/${unique('DeepSeek-V4-Flash')}`, filePatterns: ['*'] },
  });
}

async function artifact(repoId: string, opts: { format?: 'fp8' | 'gguf'; committedAt?: Date } = {}) {
  const sha = unique('sha')
    .replace(/[^0-9a-z]/g, '')
    .padEnd(40, '0')
    .slice(0, 40);
  const revision = await prisma.modelRevision.create({
    data: { trackedRepoId: repoId, commitSha: sha, changeClass: 'weights', committedAt: opts.committedAt ?? new Date() },
  });
  const a = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: opts.format ?? 'fp8',
      quantisation: opts.format === 'gguf' ? 'Q4_K_M' : 'FP8',
      sizeBytes: 284_000_000_000n,
      digest: unique('sha256:art'),
      storageUri: 'file:///nonexistent/fleetplane/artifact',
    },
  });
  await prisma.artifactModelConfig.create({ data: { artifactId: a.id, source: 'config.json', body: v4FlashConfig() as object } });
  return a;
}

let suiteId: string;
async function validationRun(
  clusterId: string,
  artifactId: string,
  opts: { verdict?: 'pass' | 'fail'; state?: 'succeeded' | 'running' } = {},
) {
  const state = opts.state ?? 'succeeded';
  return prisma.validationRun.create({
    data: {
      suiteId,
      clusterId,
      artifactId,
      state,
      verdict: state === 'running' ? null : (opts.verdict ?? 'pass'),
      summary: opts.verdict === 'fail' ? 'exact-answer failed' : 'all checks passed',
      evidenceDigest: state === 'running' ? null : unique('sha256:ev'),
      finishedAt: state === 'running' ? null : new Date(),
    },
  });
}

/** A cluster, a ready artifact and a passing validation run: what a proposal starts from. */
async function scenario(opts: { approvalsRequired?: number; expiryDays?: number } = {}) {
  const c = await cluster(opts);
  const r = await repo();
  const a = await artifact(r.id);
  const run = await validationRun(c.id, a.id);
  return { cluster: c, repo: r, artifact: a, run };
}

beforeAll(async () => {
  // A valid suite: other test files in the same database list every suite and parse it.
  suiteId = (
    await prisma.validationSuite.create({
      data: {
        name: unique('suite'),
        version: 1,
        checks: [{ key: 'endpoint', kind: 'endpoint', required: true, params: {}, thresholds: {} }],
      },
    })
  ).id;
});

describe('creating proposals', () => {
  it('an operator proposes on a passing run; asking again returns the same open proposal', async () => {
    const op = await user('operator');
    const s = await scenario();
    const first = await requestUpgradeProposal(ctxFor(op), {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      validationRunId: s.run.id,
      reason: 'new weights',
    });
    expect(first).toMatchObject({ state: 'pending_approval', created: true });
    const again = await requestUpgradeProposal(ctxFor(op), {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      validationRunId: s.run.id,
    });
    expect(again).toEqual({ id: first.id, state: 'pending_approval', created: false });
    const row = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: first.id } });
    expect(row).toMatchObject({ requestedById: op, origin: 'operator', artifactDigest: s.artifact.digest, reason: 'new weights' });
    expect(row.evidenceDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const events = await prisma.auditEvent.findMany({ where: { targetId: first.id, action: 'proposal.create' } });
    expect(events).toHaveLength(1);
    expect(events[0]!.actorId).toBe(op);
  });

  it('creates at most one open proposal when two creates race', async () => {
    const s = await scenario();
    const input = { artifactId: s.artifact.id, clusterId: s.cluster.id, origin: 'pipeline' as const, validationRunId: s.run.id };
    const [a, b] = await Promise.all([createUpgradeProposal(prisma, input), createUpgradeProposal(prisma, input)]);
    expect(a.id).toBe(b.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(await prisma.upgradeProposal.count({ where: { clusterId: s.cluster.id } })).toBe(1);
  });

  it('waits in pending_validation without a run and moves on when the run finishes', async () => {
    const op = await user('operator');
    const s = await scenario();
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id });
    expect(p.state).toBe('pending_validation');
    const running = await validationRun(s.cluster.id, s.artifact.id, { state: 'running' });
    const attached = await requestUpgradeProposal(ctxFor(op), {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      validationRunId: running.id,
    });
    expect(attached).toEqual({ id: p.id, state: 'pending_validation', created: false });
    await prisma.validationRun.update({
      where: { id: running.id },
      data: { state: 'succeeded', verdict: 'pass', evidenceDigest: 'sha256:sealed', finishedAt: new Date() },
    });
    expect((await sweepProposals(prisma)).settled).toBeGreaterThanOrEqual(1);
    const row = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } });
    expect(row.state).toBe('pending_approval');
    expect((row.evidence as { validation: { evidenceDigest: string } }).validation.evidenceDigest).toBe('sha256:sealed');
  });

  it('refuses an incompatible artifact with the rule that failed', async () => {
    const c = await cluster();
    const r = await repo();
    const gguf = await artifact(r.id, { format: 'gguf' });
    const run = await validationRun(c.id, gguf.id);
    await expect(
      createUpgradeProposal(prisma, { artifactId: gguf.id, clusterId: c.id, origin: 'pipeline', validationRunId: run.id }),
    ).rejects.toThrow(/not compatible with cluster .*GGUF files run only on llama\.cpp or Ollama/);
    expect(await prisma.upgradeProposal.count({ where: { clusterId: c.id } })).toBe(0);
  });

  it('refuses a failed validation run and a run of another artifact', async () => {
    const s = await scenario();
    const failed = await validationRun(s.cluster.id, s.artifact.id, { verdict: 'fail' });
    await expect(
      createUpgradeProposal(prisma, { artifactId: s.artifact.id, clusterId: s.cluster.id, origin: 'pipeline', validationRunId: failed.id }),
    ).rejects.toThrow('The validation run did not pass (fail): exact-answer failed');
    const other = await artifact(s.repo.id);
    await expect(
      createUpgradeProposal(prisma, { artifactId: other.id, clusterId: s.cluster.id, origin: 'pipeline', validationRunId: s.run.id }),
    ).rejects.toThrow('The validation run validated another artifact');
  });
});

describe('separation of duties', () => {
  it('nobody approves their own request, for every role', async () => {
    for (const role of ROLES) {
      const requester = await user(role);
      const s = await scenario();
      const p = await createUpgradeProposal(
        prisma,
        { artifactId: s.artifact.id, clusterId: s.cluster.id, origin: 'operator', validationRunId: s.run.id, requestedById: requester },
        { actor: { type: 'user', id: requester, label: requester } },
      );
      await expect(approveProposal(ctxFor(requester), { id: p.id }), role).rejects.toMatchObject({ kind: 'forbidden' });
      await expect(rejectProposal(ctxFor(requester), { id: p.id, reason: 'no' }), role).rejects.toMatchObject({ kind: 'forbidden' });
      expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } })).state, role).toBe('pending_approval');
      expect(await prisma.approval.count({ where: { proposalId: p.id } }), role).toBe(0);
    }
  });

  it('the person who started the pipeline run cannot approve its proposal either', async () => {
    const admin = await user('admin');
    const s = await scenario();
    const pr = await prisma.pipelineRun.create({
      data: { revisionId: s.artifact.revisionId, targetKey: s.cluster.id, trigger: 'manual', triggeredById: admin },
    });
    const p = await createUpgradeProposal(prisma, {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      origin: 'pipeline',
      validationRunId: s.run.id,
      pipelineRunId: pr.id,
    });
    await expect(approveProposal(ctxFor(admin), { id: p.id })).rejects.toThrow(/separation of duties/);
  });

  it('operators and viewers cannot decide; an approver can, and the proposal is ready to roll out', async () => {
    const op = await user('operator');
    const viewer = await user('viewer');
    const approver = await user('approver');
    const s = await scenario();
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
    const other = await user('operator');
    await expect(approveProposal(ctxFor(other), { id: p.id })).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(approveProposal(ctxFor(viewer), { id: p.id })).rejects.toMatchObject({ kind: 'forbidden' });
    expect((await getProposalDecisionState(prisma, p.id)).approvedEnough).toBe(false);
    const r = await approveProposal(ctxFor(approver), { id: p.id, comment: 'evidence looks good' });
    expect(r).toMatchObject({ state: 'approved', validApprovals: 1, approvalsRequired: 1 });
    const decision = await getProposalDecisionState(prisma, p.id);
    expect(decision).toMatchObject({ approvedEnough: true, reasons: [], validApprovals: 1 });
    const view = await getProposal(ctxFor(op), p.id);
    expect(view.viewer.canDecide).toBe(false);
    expect(view.viewer.reason).toMatch(/separation of duties/);
    expect(view.evidenceVerified).toBe(true);
    expect(view.approvals[0]).toMatchObject({ decision: 'approve', counts: true, comment: 'evidence looks good' });
    expect(await prisma.auditEvent.count({ where: { targetId: p.id, action: 'proposal.approve', actorId: approver } })).toBe(1);

    await markProposalRolledOut(prisma, p.id, 'rollout-1');
    expect(await markProposalRolledOut(prisma, p.id, 'rollout-1')).toMatchObject({ changed: false });
    expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } })).state).toBe('rolled_out');
  });

  it('a rejection needs a reason and ends the proposal', async () => {
    const op = await user('operator');
    const approver = await user('approver');
    const s = await scenario();
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
    await expect(rejectProposal(ctxFor(approver), { id: p.id, reason: '  ' })).rejects.toThrow(/Say why/);
    await rejectProposal(ctxFor(approver), { id: p.id, reason: 'TTFT regressed 30% against the baseline' });
    const row = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } });
    expect(row).toMatchObject({ state: 'rejected', stateReason: 'TTFT regressed 30% against the baseline' });
    await expect(approveProposal(ctxFor(await user('approver')), { id: p.id })).rejects.toMatchObject({ kind: 'precondition' });
    await expect(markProposalRolledOut(prisma, p.id, 'r')).rejects.toThrow(/only an approved proposal/);
  });
});

describe('approvals bound to the evidence', () => {
  it('an approval stops counting when the evidence digest changes', async () => {
    const op = await user('operator');
    const approver = await user('approver');
    const s = await scenario();
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
    await approveProposal(ctxFor(approver), { id: p.id });
    expect((await getProposalDecisionState(prisma, p.id)).approvedEnough).toBe(true);

    // New validation evidence for the same (artifact, cluster): the old approval no longer counts.
    const rerun = await validationRun(s.cluster.id, s.artifact.id);
    const again = await requestUpgradeProposal(ctxFor(op), {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      validationRunId: rerun.id,
    });
    expect(again).toEqual({ id: p.id, state: 'pending_approval', created: false });
    const decision = await getProposalDecisionState(prisma, p.id);
    expect(decision).toMatchObject({ approvedEnough: false, validApprovals: 0, state: 'pending_approval' });
    expect(decision.reasons.join(' ')).toMatch(/0 valid approvals of the 1/);
    const view = await getProposal(ctxFor(approver), p.id);
    expect(view.approvals[0]).toMatchObject({ counts: false, reason: 'given on different evidence' });

    // Approving again binds to the new digest.
    await approveProposal(ctxFor(approver), { id: p.id });
    expect(await getProposalDecisionState(prisma, p.id)).toMatchObject({ approvedEnough: true, validApprovals: 1 });
  });

  it('an evidence digest changed behind the approvals makes them count for nothing', async () => {
    const op = await user('operator');
    const approver = await user('approver');
    const s = await scenario();
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
    await approveProposal(ctxFor(approver), { id: p.id });
    await prisma.upgradeProposal.update({ where: { id: p.id }, data: { evidenceDigest: 'sha256:tampered' } });
    const d = await getProposalDecisionState(prisma, p.id);
    expect(d).toMatchObject({ approvedEnough: false, validApprovals: 0 });
  });

  it('two approvals needed: concurrent approvals are both counted and the proposal is approved once', async () => {
    const op = await user('operator');
    const [a1, a2, a3] = [await user('approver'), await user('approver'), await user('admin')];
    const s = await scenario({ approvalsRequired: 2 });
    const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
    const results = await Promise.all([approveProposal(ctxFor(a1), { id: p.id }), approveProposal(ctxFor(a2), { id: p.id })]);
    expect(results.map((r) => r.validApprovals).sort()).toEqual([1, 2]);
    expect(results.map((r) => r.state).sort()).toEqual(['approved', 'pending_approval']);
    expect(await getProposalDecisionState(prisma, p.id)).toMatchObject({ approvedEnough: true, validApprovals: 2, approvalsRequired: 2 });
    const third = await approveProposal(ctxFor(a3), { id: p.id });
    expect(third).toMatchObject({ state: 'approved', validApprovals: 3 });
  });
});

describe('expiry and voiding', () => {
  it('an open proposal expires after the cluster setting, and cannot be approved after', async () => {
    const op = await user('operator');
    const approver = await user('approver');
    const s = await scenario({ expiryDays: 2 });
    const createdAt = new Date(Date.now() - 3 * 86_400_000);
    const p = await createUpgradeProposal(
      prisma,
      { artifactId: s.artifact.id, clusterId: s.cluster.id, origin: 'operator', validationRunId: s.run.id, requestedById: op },
      { now: createdAt },
    );
    const row = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } });
    expect(row.expiresAt.getTime() - createdAt.getTime()).toBe(2 * 86_400_000);
    await expect(approveProposal(ctxFor(approver), { id: p.id })).rejects.toThrow(/expired/);
    expect((await getProposalDecisionState(prisma, p.id)).reasons.join(' ')).toMatch(/expired/);
    const swept = await sweepProposals(prisma);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect(await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: p.id } })).toMatchObject({ state: 'expired' });
    expect(await prisma.auditEvent.count({ where: { targetId: p.id, action: 'proposal.expire', actorType: 'system' } })).toBe(1);
    // Sweeping again changes nothing.
    await sweepProposals(prisma);
    expect(await prisma.auditEvent.count({ where: { targetId: p.id, action: 'proposal.expire' } })).toBe(1);
  });

  it('warns in the list a day before expiry', async () => {
    const op = await user('operator');
    const s = await scenario({ expiryDays: 1 });
    const p = await createUpgradeProposal(
      prisma,
      { artifactId: s.artifact.id, clusterId: s.cluster.id, origin: 'operator', validationRunId: s.run.id, requestedById: op },
      { now: new Date(Date.now() - 3_600_000) },
    );
    const list = await listProposals({ prisma }, { clusterId: s.cluster.id });
    expect(list.items.find((i) => i.id === p.id)).toMatchObject({ expiresSoon: true, state: 'pending_approval' });
    expect(list.expiringSoon).toBeGreaterThanOrEqual(1);
  });

  it('a proposal for a newer revision of the same repo voids the older one on the same cluster', async () => {
    const s = await scenario();
    const older = await createUpgradeProposal(prisma, {
      artifactId: s.artifact.id,
      clusterId: s.cluster.id,
      origin: 'pipeline',
      validationRunId: s.run.id,
    });
    // Another cluster's proposal for the same old revision is left alone.
    const otherCluster = await cluster();
    const otherRun = await validationRun(otherCluster.id, s.artifact.id);
    const elsewhere = await createUpgradeProposal(prisma, {
      artifactId: s.artifact.id,
      clusterId: otherCluster.id,
      origin: 'pipeline',
      validationRunId: otherRun.id,
    });
    const newer = await artifact(s.repo.id, { committedAt: new Date(Date.now() + 60_000) });
    const newerRun = await validationRun(s.cluster.id, newer.id);
    const p = await createUpgradeProposal(prisma, {
      artifactId: newer.id,
      clusterId: s.cluster.id,
      origin: 'pipeline',
      validationRunId: newerRun.id,
    });
    expect(p.created).toBe(true);
    const old = await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: older.id } });
    expect(old.state).toBe('voided');
    expect(old.stateReason).toContain(p.id);
    expect((await prisma.upgradeProposal.findUniqueOrThrow({ where: { id: elsewhere.id } })).state).toBe('pending_approval');
    // The old revision cannot be proposed over the newer one.
    const olderAgain = await artifact(s.repo.id, { committedAt: new Date(Date.now() - 86_400_000) });
    const olderRun = await validationRun(s.cluster.id, olderAgain.id);
    await expect(
      createUpgradeProposal(prisma, {
        artifactId: olderAgain.id,
        clusterId: s.cluster.id,
        origin: 'pipeline',
        validationRunId: olderRun.id,
      }),
    ).rejects.toThrow(/newer revision/);
  });
});

describe('policy and notifications', () => {
  it('an admin sets the approval policy, audited', async () => {
    const admin = await user('admin');
    const c = await cluster();
    await updateClusterApprovalPolicy(ctxFor(admin), {
      clusterId: c.id,
      approvalsRequired: 2,
      proposalExpiryDays: 3,
      gatingSuiteName: null,
    });
    expect(await prisma.cluster.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({ approvalsRequired: 2, proposalExpiryDays: 3 });
    expect(await prisma.auditEvent.count({ where: { targetId: c.id, action: 'cluster.approval_policy.update' } })).toBe(1);
    await expect(
      updateClusterApprovalPolicy(ctxFor(admin), {
        clusterId: c.id,
        approvalsRequired: 1,
        proposalExpiryDays: 7,
        gatingSuiteName: 'no-such-suite',
      }),
    ).rejects.toMatchObject({ field: 'gatingSuiteName' });
  });

  describe('webhook', () => {
    let server: Server;
    let url: string;
    const bodies: { text: string; blocks: unknown[] }[] = [];
    beforeAll(async () => {
      await allowLoopbackForTests(prisma);
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          bodies.push(JSON.parse(body) as { text: string; blocks: unknown[] });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    afterAll(() => new Promise((r) => server.close(r)));

    it('every decision is queued in the outbox and posts a Slack-compatible message naming who decided', async () => {
      const op = await user('operator');
      const approver = await user('approver');
      const s = await scenario();
      const p = await requestUpgradeProposal(ctxFor(op), { artifactId: s.artifact.id, clusterId: s.cluster.id, validationRunId: s.run.id });
      await rejectProposal(
        { prisma, actor: { type: 'user', id: approver, label: 'Ada Approver' } },
        { id: p.id, reason: 'error rate doubled' },
      );
      const rows = await prisma.outboxMessage.findMany({
        where: { jobName: 'proposal-webhook', jobId: { contains: p.id.replace(/[^A-Za-z0-9._-]/g, '') } },
      });
      const events = rows.map((r) => (r.payload as { event: string }).event).sort();
      expect(events).toEqual(['created', 'rejected']);
      const rejected = rows.find((r) => (r.payload as { event: string }).event === 'rejected')!;
      const result = await sendProposalNotification(prisma, rejected.payload as never, {
        webhookUrl: url,
        dashboardUrl: 'http://fleet.local',
      });
      expect(result).toMatchObject({ delivered: true, status: 200 });
      const msg = bodies.at(-1)!;
      expect(msg.text).toBe(
        `Upgrade of ${s.cluster.name} to ${(await prisma.trackedRepo.findUniqueOrThrow({ where: { id: s.repo.id } })).hubRepoId}@${(await prisma.modelRevision.findUniqueOrThrow({ where: { id: s.artifact.revisionId } })).commitSha.slice(0, 7)} FP8 rejected by Ada Approver: error rate doubled`,
      );
      expect(JSON.stringify(msg.blocks)).toContain(`http://fleet.local/proposals/${p.id}`);
    });
  });
});
