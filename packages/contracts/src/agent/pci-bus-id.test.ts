import { describe, expect, it } from 'vitest';
import { normalisePciBusId, ZNormalisedPciBusId } from './pci-bus-id';

describe('normalisePciBusId', () => {
  it.each([
    ['0000:3b:00', '00000000:3B:00.0'],
    ['PCI:0000:3b:00', '00000000:3B:00.0'],
    ['00000000:3B:00.0', '00000000:3B:00.0'],
    ['00000000:3b:00.0', '00000000:3B:00.0'],
    ['0000:9b:00.1', '00000000:9B:00.1'],
    ['3b:00.0', '00000000:3B:00.0'],
    ['  PCI:0000:38:00 ', '00000000:38:00.0'],
    ['0001:c1:1f.7', '00000001:C1:1F.7'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalisePciBusId(raw)).toBe(expected);
    expect(ZNormalisedPciBusId.safeParse(expected).success).toBe(true);
  });

  it('joins the Xid spelling and the nvidia-smi spelling of one GPU', () => {
    expect(normalisePciBusId('PCI:0000:18:00')).toBe(normalisePciBusId('00000000:18:00.0'));
  });

  it.each(['', 'GPU-123', 'PCI:', '0000:3b', '0000:3g:00', '0000:3b:00.8', '000000000:3b:00.0', '0000:3b:00:00'])('rejects %j', (raw) => {
    expect(normalisePciBusId(raw)).toBeNull();
  });

  it('only accepts the normalised form on the wire', () => {
    expect(ZNormalisedPciBusId.safeParse('0000:3b:00').success).toBe(false);
    expect(ZNormalisedPciBusId.safeParse('00000000:3b:00.0').success).toBe(false);
  });
});
