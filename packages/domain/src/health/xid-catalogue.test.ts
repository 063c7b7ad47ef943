import { describe, expect, it } from 'vitest';
import { APP_LEVEL_XIDS, CRITICAL_XIDS, XID_CATALOGUE, describeXid, isCriticalXid } from './xid-catalogue';

describe('XID catalogue', () => {
  it('contains every code from the domain reference table', () => {
    const codes = new Set(XID_CATALOGUE.map((x) => x.code));
    for (const code of [13, 31, 43, 45, 48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 109, 119, 120, 140, 154]) {
      expect(codes.has(code), `XID ${code}`).toBe(true);
    }
  });

  it('marks at least the required codes critical', () => {
    for (const code of [48, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140]) {
      expect(CRITICAL_XIDS).toContain(code);
      expect(describeXid(code).severity).toBe('critical');
    }
  });

  it('agrees with CRITICAL_XIDS for every entry, and every critical code has an entry', () => {
    for (const x of XID_CATALOGUE) expect(x.severity === 'critical').toBe(CRITICAL_XIDS.includes(x.code));
    for (const code of CRITICAL_XIDS) expect(describeXid(code).known).toBe(true);
  });

  it('treats 13, 31, 43 and 45 as application-level warnings', () => {
    expect([...APP_LEVEL_XIDS].sort((a, b) => a - b)).toEqual([13, 31, 43, 45]);
    for (const code of APP_LEVEL_XIDS) {
      expect(describeXid(code)).toMatchObject({ severity: 'warning', appLevel: true, known: true });
    }
  });

  it('uses dcgm-exporter err_msg texts', () => {
    expect(describeXid(79).meaning).toBe('GPU has fallen off the bus');
    expect(describeXid(48).meaning).toBe('Double Bit ECC Error');
    expect(describeXid(119).meaning).toBe('GSP RPC Timeout');
    expect(describeXid(13).meaning).toBe('Graphics Engine Exception');
  });

  it('is sorted by code, unique, with a meaning and an action for each entry', () => {
    const codes = XID_CATALOGUE.map((x) => x.code);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    expect(new Set(codes).size).toBe(codes.length);
    for (const x of XID_CATALOGUE) {
      expect(x.meaning.length).toBeGreaterThan(3);
      expect(x.action.length).toBeGreaterThan(3);
    }
  });

  it('is frozen so no caller can change a severity at runtime', () => {
    expect(Object.isFrozen(XID_CATALOGUE)).toBe(true);
    expect(Object.isFrozen(XID_CATALOGUE[0])).toBe(true);
    expect(Object.isFrozen(CRITICAL_XIDS)).toBe(true);
  });

  it('describes unknown codes as warnings instead of dropping them', () => {
    expect(describeXid(999)).toMatchObject({ code: 999, severity: 'warning', known: false, appLevel: false });
    expect(describeXid(999).meaning).toContain('999');
  });

  it('rejects codes that are not non-negative integers', () => {
    expect(() => describeXid(-1)).toThrow(/non-negative integer/);
    expect(() => describeXid(1.5)).toThrow(RangeError);
  });

  it('isCriticalXid matches the list', () => {
    expect(isCriticalXid(79)).toBe(true);
    expect(isCriticalXid(13)).toBe(false);
    expect(isCriticalXid(999)).toBe(false);
  });
});
