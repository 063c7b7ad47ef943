import { describe, expect, it } from 'vitest';
import {
  desiredArtifactForNode,
  driftAlertCondition,
  driftAlertsNotCoveredByStagingRestore,
  evaluateDrift,
  type TReportedEngine,
} from './drift';

const A = { artifactId: 'a', digest: 'a'.repeat(64), label: 'flash@aaaa FP8' };
const B = { artifactId: 'b', digest: 'b'.repeat(64), label: 'flash@bbbb FP8' };
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('desiredArtifactForNode', () => {
  it('node-specific deployment before cluster-wide, newest first, only live states', () => {
    const deployments = [
      { nodeId: null, state: 'active' as const, startedAt: t(1), artifact: A },
      { nodeId: 'n1', state: 'active' as const, startedAt: t(0), artifact: B },
      { nodeId: 'n2', state: 'rolled_back' as const, startedAt: t(5), artifact: B },
    ];
    expect(desiredArtifactForNode({ nodeId: 'n1', deployments, commands: [] })).toEqual({
      kind: 'artifact',
      artifact: B,
      source: 'deployment',
    });
    expect(desiredArtifactForNode({ nodeId: 'n2', deployments, commands: [] })).toEqual({
      kind: 'artifact',
      artifact: A,
      source: 'deployment',
    });
    expect(desiredArtifactForNode({ nodeId: 'n3', deployments: [], commands: [] })).toEqual({ kind: 'none' });
  });
  it('a newer load or stop command is the intent; failed ones are not', () => {
    const deployments = [{ nodeId: null, state: 'active' as const, startedAt: t(10), artifact: A }];
    const load = { kind: 'load_artifact' as const, state: 'succeeded' as const, issuedAt: t(20), artifact: B };
    expect(desiredArtifactForNode({ nodeId: 'n', deployments, commands: [load] })).toEqual({
      kind: 'artifact',
      artifact: B,
      source: 'command',
    });
    expect(desiredArtifactForNode({ nodeId: 'n', deployments, commands: [{ ...load, state: 'failed' }] }).kind).toBe('artifact');
    expect(desiredArtifactForNode({ nodeId: 'n', deployments, commands: [{ ...load, state: 'failed' }] })).toMatchObject({
      source: 'deployment',
    });
    expect(desiredArtifactForNode({ nodeId: 'n', deployments, commands: [{ ...load, issuedAt: t(5) }] })).toMatchObject({
      source: 'deployment',
    });
    const stop = { kind: 'stop_engine' as const, state: 'queued' as const, issuedAt: t(30), artifact: null };
    expect(desiredArtifactForNode({ nodeId: 'n', deployments, commands: [load, stop] })).toEqual({ kind: 'stopped', source: 'command' });
  });
});

describe('evaluateDrift', () => {
  const now = t(100);
  const opts = { now, staleAfterSeconds: 60 };
  const rep = (r: Partial<TReportedEngine>): TReportedEngine => ({
    observedAt: t(95),
    state: 'ready',
    servedDigest: A.digest,
    servedModelIds: ['flash'],
    servedRoot: '/cache/a',
    lastError: null,
    ...r,
  });
  const wantA = { kind: 'artifact' as const, artifact: A, source: 'deployment' as const };

  it('in sync when the served digest is the desired one', () => {
    expect(evaluateDrift(wantA, rep({}), opts)).toEqual({ status: 'in_sync', message: null, severity: null });
  });
  it('"serving X, expected Y" when another artifact is served', () => {
    expect(evaluateDrift(wantA, rep({ servedDigest: B.digest, servedLabel: B.label }), opts)).toEqual({
      status: 'drift',
      message: `serving flash@bbbb FP8 (bbbbbbbbbbbb), expected flash@aaaa FP8 (aaaaaaaaaaaa)`,
      severity: 'warning',
    });
    expect(evaluateDrift(wantA, rep({ servedDigest: B.digest }), opts).message).toBe(
      'serving an unknown artifact bbbbbbbbbbbb, expected flash@aaaa FP8 (aaaaaaaaaaaa)',
    );
    expect(evaluateDrift(wantA, rep({ servedDigest: null, servedRoot: '/models/x', servedModelIds: ['x'] }), opts).message).toBe(
      'serving x with no artifact identity at /models/x, expected flash@aaaa FP8 (aaaaaaaaaaaa)',
    );
  });
  it('a crashed engine that should serve is critical, with its error', () => {
    expect(evaluateDrift(wantA, rep({ state: 'crashed', lastError: 'exit code 1\nTraceback' }), opts)).toEqual({
      status: 'drift',
      message: 'engine crashed: exit code 1, expected flash@aaaa FP8 (aaaaaaaaaaaa)',
      severity: 'critical',
    });
  });
  it('no verdict while changing, without a report, or on a stale one', () => {
    expect(evaluateDrift(wantA, rep({ state: 'starting' }), opts).status).toBe('changing');
    expect(evaluateDrift(wantA, null, opts).status).toBe('unknown');
    expect(evaluateDrift(wantA, rep({ observedAt: t(10) }), opts)).toMatchObject({
      status: 'unknown',
      message: 'The last engine report is 90 s old',
    });
    expect(evaluateDrift({ kind: 'none' }, rep({}), opts).status).toBe('no_desired');
  });
  it('desired stopped: serving anything is drift, stopped is in sync', () => {
    expect(evaluateDrift({ kind: 'stopped', source: 'command' }, rep({ state: 'stopped', servedDigest: null }), opts).status).toBe(
      'in_sync',
    );
    expect(evaluateDrift({ kind: 'stopped', source: 'command' }, rep({ servedLabel: A.label }), opts).message).toBe(
      'serving flash@aaaa FP8 (aaaaaaaaaaaa), expected the engine stopped',
    );
  });
});

describe('driftAlertCondition', () => {
  it('one condition per drifting node, none otherwise', () => {
    const node = { nodeId: 'n1', clusterId: 'c1', hostname: 'gpu-01' };
    expect(driftAlertCondition(node, { status: 'in_sync', message: null, severity: null })).toBeNull();
    expect(driftAlertCondition(node, { status: 'drift', message: 'serving x, expected y', severity: 'warning' })).toEqual({
      fingerprint: 'node:n1:engine_drift',
      rule: 'engine_drift',
      severity: 'warning',
      title: 'gpu-01 engine does not serve its desired artifact',
      details: { message: 'serving x, expected y', hostname: 'gpu-01' },
      clusterId: 'c1',
      nodeId: 'n1',
    });
  });
});

describe('driftAlertsNotCoveredByStagingRestore', () => {
  const drift = (nodeId: string) =>
    driftAlertCondition(
      { nodeId, clusterId: 'c', hostname: nodeId },
      { status: 'drift', message: 'engine stopped, expected flash@aaaa FP8 (aaaaaaaaaaaa)', severity: 'critical' },
    )!;
  it('drift stands down on a node with an open staging_restore_failed alert: one problem, one alert', () => {
    expect(driftAlertsNotCoveredByStagingRestore([drift('n1'), drift('n2')], ['n1'])).toEqual([drift('n2')]);
  });
  it('speaks again once no such alert is open, and never touches other nodes', () => {
    expect(driftAlertsNotCoveredByStagingRestore([drift('n1'), drift('n2')], [])).toEqual([drift('n1'), drift('n2')]);
    expect(driftAlertsNotCoveredByStagingRestore([drift('n1')], ['n3', null])).toEqual([drift('n1')]);
  });
});
