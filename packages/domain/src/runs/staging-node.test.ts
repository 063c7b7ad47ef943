import { describe, expect, it } from 'vitest';
import {
  chooseStagingBaseline,
  chooseStagingNode,
  decideStagingLease,
  isStagingNodePutBack,
  judgeStagingLoad,
  stagingCommandKey,
  planStagingRestore,
  stagingRestoreAlertCondition,
  type BaselineCandidateRun,
  type RestoreFacts,
  type StagingNodeFacts,
} from './staging-node';

const now = new Date('2026-12-03T08:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const node = (over: Partial<NonNullable<StagingNodeFacts['node']>> = {}): StagingNodeFacts['node'] => ({
  id: 'n1',
  hostname: 'gpu-07',
  inCluster: true,
  health: 'healthy',
  healthReasons: [],
  lastSeenAt: ago(5),
  reportIntervalSeconds: 10,
  ...over,
});

describe('chooseStagingNode', () => {
  it('takes a healthy node that reports', () => {
    expect(chooseStagingNode({ clusterName: 'flash', node: node(), now })).toEqual({ ok: true, nodeId: 'n1', hostname: 'gpu-07' });
  });

  it('takes a node with warnings: the suite judges serving quality', () => {
    expect(chooseStagingNode({ clusterName: 'flash', node: node({ health: 'warning', healthReasons: ['clock skew'] }), now }).ok).toBe(
      true,
    );
  });

  it('refuses when no staging node is set, naming the cluster', () => {
    const c = chooseStagingNode({ clusterName: 'flash-h100', node: null, now });
    expect(c).toMatchObject({ ok: false, code: 'no_staging_node' });
    if (!c.ok) expect(c.reason).toContain('No staging node configured for cluster "flash-h100"');
  });

  it('refuses a node that never reported', () => {
    expect(chooseStagingNode({ clusterName: 'flash', node: node({ lastSeenAt: null, health: 'unknown' }), now })).toMatchObject({
      ok: false,
      code: 'never_seen',
    });
  });

  it('refuses a node silent past three report intervals even before the health pass marks it offline', () => {
    const c = chooseStagingNode({ clusterName: 'flash', node: node({ lastSeenAt: ago(31) }), now });
    expect(c).toMatchObject({ ok: false, code: 'offline' });
    if (!c.ok) expect(c.reason).toContain('no report for 31 s (limit 30 s)');
    // Exactly three intervals is still online.
    expect(chooseStagingNode({ clusterName: 'flash', node: node({ lastSeenAt: ago(30) }), now }).ok).toBe(true);
  });

  it('refuses a node the health pass marked offline', () => {
    expect(chooseStagingNode({ clusterName: 'flash', node: node({ health: 'offline' }), now })).toMatchObject({
      ok: false,
      code: 'offline',
    });
  });

  it('refuses a critical node and says why', () => {
    const c = chooseStagingNode({ clusterName: 'flash', node: node({ health: 'critical', healthReasons: ['2 of 8 GPUs critical'] }), now });
    expect(c).toMatchObject({ ok: false, code: 'unhealthy' });
    if (!c.ok) expect(c.reason).toContain('2 of 8 GPUs critical');
  });

  it('refuses a node that moved to another cluster', () => {
    expect(chooseStagingNode({ clusterName: 'flash', node: node({ inCluster: false }), now })).toMatchObject({
      ok: false,
      code: 'not_in_cluster',
    });
  });
});

describe('decideStagingLease', () => {
  it('acquires a free node', () => {
    expect(decideStagingLease({ lease: null, stepId: 's1', now })).toEqual({ action: 'acquire' });
  });
  it('resumes its own lease (job delivered again after a crash), even when it expired', () => {
    expect(decideStagingLease({ lease: { holderStepId: 's1', expiresAt: ago(600) }, stepId: 's1', now })).toEqual({ action: 'resume' });
  });
  it('waits for another live lease', () => {
    const expiresAt = new Date(now.getTime() + 30_000);
    expect(decideStagingLease({ lease: { holderStepId: 's2', expiresAt }, stepId: 's1', now })).toEqual({
      action: 'wait',
      holderStepId: 's2',
      expiresAt,
    });
  });
  it('recovers an expired lease of another step', () => {
    expect(decideStagingLease({ lease: { holderStepId: 's2', expiresAt: now }, stepId: 's1', now })).toEqual({
      action: 'recover',
      holderStepId: 's2',
    });
  });
});

describe('planStagingRestore', () => {
  const candidate = { id: 'cand', digest: 'c'.repeat(64) };
  const desired = { id: 'prod', label: 'V4-Flash@abc FP8', digest: 'p'.repeat(64) };
  const base: RestoreFacts = {
    runtime: { engineState: 'ready', servedArtifactDigest: 'p'.repeat(64) },
    servedArtifact: { id: 'prod', label: 'V4-Flash@abc FP8' },
    desired,
    candidate,
  };

  it('loads the artifact the node served before', () => {
    expect(planStagingRestore(base)).toMatchObject({ kind: 'load', artifactId: 'prod' });
  });

  it('loads what it served even when that differs from its deployment (restore means as found)', () => {
    expect(
      planStagingRestore({
        ...base,
        runtime: { engineState: 'ready', servedArtifactDigest: 'o'.repeat(64) },
        servedArtifact: { id: 'other', label: 'old' },
      }),
    ).toMatchObject({ kind: 'load', artifactId: 'other' });
  });

  it('stops the engine when the node served nothing', () => {
    expect(
      planStagingRestore({ ...base, runtime: { engineState: 'stopped', servedArtifactDigest: null }, servedArtifact: null }),
    ).toMatchObject({
      kind: 'stop',
    });
    expect(
      planStagingRestore({ ...base, runtime: { engineState: 'crashed', servedArtifactDigest: null }, servedArtifact: null }).kind,
    ).toBe('stop');
  });

  it('falls back to the deployment when the agent never reported', () => {
    expect(planStagingRestore({ ...base, runtime: null, servedArtifact: null })).toMatchObject({ kind: 'load', artifactId: 'prod' });
    expect(planStagingRestore({ ...base, runtime: null, servedArtifact: null, desired: null })).toMatchObject({ kind: 'stop' });
  });

  it('never "restores" the candidate itself', () => {
    const already = {
      ...base,
      runtime: { engineState: 'ready', servedArtifactDigest: candidate.digest },
      servedArtifact: { id: 'cand', label: 'cand' },
    };
    expect(planStagingRestore(already)).toMatchObject({ kind: 'load', artifactId: 'prod' });
    expect(planStagingRestore({ ...already, desired: null })).toMatchObject({ kind: 'stop' });
    expect(planStagingRestore({ ...already, desired: { ...desired, id: 'cand', digest: candidate.digest } })).toMatchObject({
      kind: 'stop',
    });
  });

  it('falls back to the deployment for an unknown served digest, and refuses without one', () => {
    const unknown = { ...base, runtime: { engineState: 'ready', servedArtifactDigest: 'u'.repeat(64) }, servedArtifact: null };
    expect(planStagingRestore(unknown)).toMatchObject({ kind: 'load', artifactId: 'prod' });
    const refused = planStagingRestore({ ...unknown, desired: null });
    expect(refused.kind).toBe('refuse');
    expect(refused.reason).toContain('does not know');
  });
});

describe('chooseStagingBaseline', () => {
  const run = (over: Partial<BaselineCandidateRun>): BaselineCandidateRun => ({
    id: 'r',
    clusterId: 'c1',
    artifactId: 'prod',
    suiteName: 'smoke',
    state: 'succeeded',
    verdict: 'pass',
    finishedAt: ago(100),
    ...over,
  });
  const want = { servingArtifactId: 'prod', clusterId: 'c1', suiteName: 'smoke' };

  it('picks the latest passing run of the serving artifact on the same suite', () => {
    const runs = [
      run({ id: 'old', finishedAt: ago(500) }),
      run({ id: 'new', finishedAt: ago(50) }),
      run({ id: 'failed', verdict: 'fail', state: 'failed', finishedAt: ago(1) }),
    ];
    expect(chooseStagingBaseline(runs, want)).toBe('new');
  });

  it('ignores other artifacts and other suites', () => {
    expect(chooseStagingBaseline([run({ id: 'a', artifactId: 'cand' }), run({ id: 'b', suiteName: 'release-gate' })], want)).toBeNull();
  });

  it('prefers the same cluster, then any cluster', () => {
    expect(
      chooseStagingBaseline(
        [run({ id: 'elsewhere', clusterId: 'c2', finishedAt: ago(1) }), run({ id: 'here', finishedAt: ago(900) })],
        want,
      ),
    ).toBe('here');
    expect(chooseStagingBaseline([run({ id: 'elsewhere', clusterId: 'c2' })], want)).toBe('elsewhere');
  });

  it('has no baseline when nothing serves the cluster', () => {
    expect(chooseStagingBaseline([run({ id: 'x' })], { ...want, servingArtifactId: null })).toBeNull();
  });

  it('skips cancelled or unfinished runs and the excluded one', () => {
    expect(
      chooseStagingBaseline([run({ id: 'x', state: 'cancelled' }), run({ id: 'y', finishedAt: null }), run({ id: 'z' })], {
        ...want,
        excludeRunId: 'z',
      }),
    ).toBeNull();
  });
});

describe('stagingCommandKey', () => {
  const at = new Date('2026-12-03T12:00:00Z');
  it('is the same for a job delivered again on the same lease, and differs per purpose and per lease', () => {
    const k = (over: Partial<Parameters<typeof stagingCommandKey>[0]> = {}) =>
      stagingCommandKey({ runId: 'r1', stepId: 's1', leaseAcquiredAt: at, purpose: 'load', ...over });
    expect(k()).toBe(k());
    expect(k()).not.toBe(k({ purpose: 'restore' }));
    expect(k()).not.toBe(k({ leaseAcquiredAt: new Date(at.getTime() + 1) }));
    expect(k()).not.toBe(k({ stepId: 's2' }));
    expect(k().length).toBeLessThanOrEqual(200);
  });
});

describe('judgeStagingLoad', () => {
  const cand = 'c'.repeat(64);
  const want = { hostname: 'stage-1', candidateDigest: cand, servedModelName: 'm' };
  const ready = { endpointUrl: 'http://127.0.0.1:8000', servedModelIds: ['m'], artifactDigest: cand };
  it('accepts a load whose engine serves the candidate', () => {
    expect(judgeStagingLoad({ state: 'succeeded', error: null, ready }, want)).toEqual({ ok: true, endpointUrl: ready.endpointUrl });
  });
  it('explains failed, cancelled and expired loads', () => {
    expect(judgeStagingLoad({ state: 'failed', error: 'engine exited with code 1', ready: null }, want)).toEqual({
      ok: false,
      reason: 'Loading the candidate on staging node "stage-1" failed: engine exited with code 1.',
    });
    expect(judgeStagingLoad({ state: 'cancelled', error: null, ready: null }, want)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/was cancelled/),
    });
    expect(judgeStagingLoad({ state: 'expired', error: null, ready: null }, want)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    });
  });
  it('refuses a success that serves other bytes, another model or no endpoint', () => {
    expect(judgeStagingLoad({ state: 'succeeded', error: null, ready: { ...ready, artifactDigest: 'd'.repeat(64) } }, want)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/serves artifact dddddddddddd…, not the candidate cccccccccccc…/),
    });
    expect(judgeStagingLoad({ state: 'succeeded', error: null, ready: { ...ready, servedModelIds: ['other'] } }, want)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/lists other but not the model "m"/),
    });
    expect(judgeStagingLoad({ state: 'succeeded', error: null, ready: null }, want)).toMatchObject({ ok: false });
  });
});

describe('a failed staging restore', () => {
  const digest = 'ab'.repeat(32);
  const load = { kind: 'load' as const, digest, label: 'deepseek-ai/V4@0123456789ab FP8' };
  const ready = (d: string | null) => ({ engineState: 'ready', servedArtifactDigest: d });

  it('the node is put back only when its agent reports the expected artifact ready, or a stopped engine', () => {
    expect(isStagingNodePutBack(load, ready(digest))).toBe(true);
    expect(isStagingNodePutBack(load, ready('cd'.repeat(32)))).toBe(false);
    expect(isStagingNodePutBack(load, { engineState: 'starting', servedArtifactDigest: digest })).toBe(false);
    expect(isStagingNodePutBack(load, null)).toBe(false);
    expect(isStagingNodePutBack({ kind: 'stop' }, { engineState: 'stopped', servedArtifactDigest: null })).toBe(true);
    expect(isStagingNodePutBack({ kind: 'stop' }, ready(digest))).toBe(false);
  });

  it('raises a critical alert naming the node, the expected artifact and the reason until the node is back', () => {
    const f = { nodeId: 'n1', clusterId: 'c1', hostname: 'gpu-7', target: load, error: 'load_artifact failed: disk full' };
    expect(stagingRestoreAlertCondition(f, ready('cd'.repeat(32)))).toEqual({
      fingerprint: 'node:n1:staging_restore_failed',
      rule: 'staging_restore_failed',
      severity: 'critical',
      title: 'gpu-7 was not put back after a staging validation',
      details: {
        message: `Expected deepseek-ai/V4@0123456789ab FP8 (abababababab); the restore failed: load_artifact failed: disk full`,
        hostname: 'gpu-7',
        expectedArtifact: load.label,
        expectedDigest: digest,
        reason: 'load_artifact failed: disk full',
      },
      clusterId: 'c1',
      nodeId: 'n1',
    });
    expect(stagingRestoreAlertCondition(f, ready(digest))).toBeNull();
    const stop = stagingRestoreAlertCondition({ ...f, target: { kind: 'stop' } }, ready(digest));
    expect(stop?.details).toMatchObject({
      message: 'Expected its engine stopped; the restore failed: load_artifact failed: disk full',
      expectedArtifact: null,
    });
  });
});
