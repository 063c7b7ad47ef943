import { describe, expect, it } from 'vitest';
import { compareEngineVersions, meetsMinimumVersion, parseEngineVersion } from './versions';

describe('compareEngineVersions', () => {
  it('orders release numbers numerically, padding missing parts', () => {
    expect(compareEngineVersions('0.11.2', '0.11.10')).toBe(-1);
    expect(compareEngineVersions('0.12', '0.11.9')).toBe(1);
    expect(compareEngineVersions('0.11', '0.11.0')).toBe(0);
    expect(compareEngineVersions('v0.11.2', '0.11.2')).toBe(0);
  });

  it('orders dev < alpha < beta < rc < final < post (PEP 440 and semver spellings)', () => {
    const ordered = [
      '0.11.2.dev47+g1a2b3c',
      '0.11.2a1',
      '0.11.2-beta.2',
      '0.11.2rc1',
      '0.11.2rc2',
      '0.11.2',
      '0.11.2.post1',
      '0.11.3.dev1',
    ];
    for (let i = 0; i < ordered.length - 1; i += 1) {
      expect(compareEngineVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBe(-1);
      expect(compareEngineVersions(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
  });

  it('ignores local build metadata', () => {
    expect(compareEngineVersions('0.11.2+cu128', '0.11.2')).toBe(0);
  });

  it('compares llama.cpp builds within their own scheme only', () => {
    expect(compareEngineVersions('b6123', 'b5999')).toBe(1);
    expect(compareEngineVersions('b6123', '0.11.2')).toBeNull();
    expect(compareEngineVersions('nightly', '0.11.2')).toBeNull();
    expect(parseEngineVersion('0.11.2-weird')).toBeNull();
  });
});

describe('meetsMinimumVersion', () => {
  it('explains the outcome', () => {
    expect(meetsMinimumVersion('0.11.2', '0.11.0')).toEqual({ ok: true, explanation: 'engine version 0.11.2 meets the minimum 0.11.0' });
    expect(meetsMinimumVersion('0.10.1', '0.11.0')).toEqual({
      ok: false,
      explanation: 'engine version 0.10.1 is older than the required minimum 0.11.0',
    });
    expect(meetsMinimumVersion('0.11.0rc1', '0.11.0').ok).toBe(false);
    expect(meetsMinimumVersion('b6123', '0.11.0').ok).toBeNull();
  });
});
