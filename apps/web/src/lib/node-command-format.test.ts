import { describe, expect, it } from 'vitest';
import { commandBytesMoved, commandDuration, commandOrigin, commandProgressPercent, commandProgressText } from './node-command-format';

describe('commandProgressText', () => {
  it('shows phase, bytes with percent, rate and message', () => {
    expect(
      commandProgressText({
        phase: 'downloading',
        bytesDone: 1_500_000_000,
        bytesTotal: 4_000_000_000,
        bytesPerSecond: 50_000_000,
        message: 'shard 2/4',
      }),
    ).toBe('downloading · 1.5 GB / 4.0 GB (37%) · 50.0 MB/s · shard 2/4');
  });
  it('shows only what the agent reported', () => {
    expect(commandProgressText({ phase: 'waiting_ready' })).toBe('waiting ready');
    expect(commandProgressText({ phase: 'x', bytesDone: 2000 })).toBe('x · 2.0 KB');
    expect(commandProgressText(null)).toBeNull();
    expect(commandProgressText({ bytesDone: 'junk' })).toBeNull();
  });
  it('caps the percentage at 100 and ignores a zero total', () => {
    expect(commandProgressPercent({ bytesDone: 12, bytesTotal: 10 })).toBe(100);
    expect(commandProgressPercent({ bytesDone: 5, bytesTotal: 0 })).toBeNull();
    expect(commandProgressPercent({ bytesDone: 1, bytesTotal: 4 })).toBe(25);
  });
});

describe('commandBytesMoved', () => {
  it('says what a finished command moved, or nothing when it moved no bytes', () => {
    expect(commandBytesMoved({ phase: 'verifying', bytesDone: 4_000_000_000, bytesTotal: 4_000_000_000 })).toBe('4.0 GB moved');
    expect(commandBytesMoved({ phase: 'starting', message: 'Starting vllm' })).toBeNull();
    expect(commandBytesMoved(null)).toBeNull();
  });
});

describe('commandOrigin', () => {
  it('links rollouts and pipeline runs', () => {
    expect(commandOrigin('rollout:abcdef123456', null)).toEqual({ label: 'rollout abcdef12', href: '/rollouts/abcdef123456' });
    expect(commandOrigin('pipeline:run1', null)).toEqual({ label: 'pipeline run run1', href: '/pipelines/run1' });
    expect(commandOrigin('pipeline_step:step123456789', null)).toEqual({ label: 'pipeline step step1234', href: null });
  });
  it('names the issuing user, else the raw origin', () => {
    expect(commandOrigin('operator', { name: 'Ada', email: 'ada@x' })).toEqual({ label: 'Ada', href: null });
    expect(commandOrigin('operator', null)).toEqual({ label: 'operator', href: null });
    expect(commandOrigin('rollout:', null)).toEqual({ label: 'rollout:', href: null });
  });
});

describe('commandDuration', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  it('counts from start to finish, else from issue to now', () => {
    expect(commandDuration({ issuedAt: t0, startedAt: new Date(t0.getTime() + 5000), finishedAt: new Date(t0.getTime() + 65_000) })).toBe(
      '1m 0s',
    );
    expect(commandDuration({ issuedAt: t0, startedAt: null, finishedAt: null }, t0.getTime() + 42_000)).toBe('42s');
    expect(commandDuration({ issuedAt: t0, startedAt: t0, finishedAt: new Date(t0.getTime() + 7_260_000) })).toBe('2h 1m');
  });
});
