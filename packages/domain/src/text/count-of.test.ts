import { describe, expect, it } from 'vitest';
import { countOf } from './count-of';

describe('countOf', () => {
  it('uses the singular for exactly one, the plural otherwise', () => {
    expect(countOf(1, 'node')).toBe('1 node');
    expect(countOf(0, 'check')).toBe('0 checks');
    expect(countOf(2, 'GPU')).toBe('2 GPUs');
  });
  it('takes an irregular plural', () => {
    expect(countOf(3, 'batch', 'batches')).toBe('3 batches');
    expect(countOf(1, 'batch', 'batches')).toBe('1 batch');
  });
});
