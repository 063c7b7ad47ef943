import { describe, expect, it } from 'vitest';
import { contextLabel, judgeNeedleCells, scoreNeedleAnswer, summariseNeedleCells, type TNeedleTrial } from './needle';

describe('scoreNeedleAnswer', () => {
  it('needs exactly the expected code', () => {
    expect(scoreNeedleAnswer('4821930', '4821930').correct).toBe(true);
    expect(scoreNeedleAnswer('4821930', 'The pass code for Oslo is 4821930.').correct).toBe(true);
    expect(scoreNeedleAnswer('4821930', '4821931').correct).toBe(false);
    expect(scoreNeedleAnswer('4821930', 'Either 4821930 or 1234567').correct).toBe(false);
    expect(scoreNeedleAnswer('4821930', 'I could not find it.')).toEqual({ correct: false, found: [] });
    // Longer digit runs are not the code.
    expect(scoreNeedleAnswer('4821930', '48219301').correct).toBe(false);
  });
  it('ignores codes mentioned while thinking', () => {
    expect(scoreNeedleAnswer('4821930', '<think>maybe 1111111</think>4821930').correct).toBe(true);
  });
});

describe('needle cells', () => {
  const t = (
    contextLength: number,
    depth: number,
    correct: boolean | null,
    promptTokens: number | null = contextLength - 10,
  ): TNeedleTrial => ({
    contextLength,
    depth,
    correct,
    promptTokens,
  });
  const cells = summariseNeedleCells([
    t(4096, 1, false),
    t(2048, 0.5, true),
    t(2048, 0, true),
    t(4096, 1, true),
    t(4096, 0, null, null),
    t(4096, 0, true, 4000),
  ]);

  it('groups trials per (length, depth), sorted, with errors counted as misses', () => {
    expect(cells.map((c) => [c.contextLength, c.depth, c.score])).toEqual([
      [2048, 0, 1],
      [2048, 0.5, 1],
      [4096, 0, 0.5],
      [4096, 1, 0.5],
    ]);
    expect(cells[2]).toMatchObject({ trials: 2, correct: 1, errors: 1, promptTokens: 4000 });
    expect(cells[3]!.promptTokens).toBe(4086);
  });

  it('judges every cell or the overall mean', () => {
    const every = judgeNeedleCells(cells, { minScore: 0.75, mode: 'every_cell' });
    expect(every.pass).toBe(false);
    expect(every.failing.map((c) => [c.contextLength, c.depth])).toEqual([
      [4096, 0],
      [4096, 1],
    ]);
    expect(every.overall).toBe(0.75);
    expect(judgeNeedleCells(cells, { minScore: 0.75, mode: 'overall' }).pass).toBe(true);
    expect(judgeNeedleCells([], { minScore: 0, mode: 'overall' }).pass).toBe(false);
  });

  it('labels context lengths', () => {
    expect(contextLabel(8192)).toBe('8K');
    expect(contextLabel(131072)).toBe('128K');
    expect(contextLabel(1048576)).toBe('1M');
    expect(contextLabel(3000)).toBe('3000');
  });
});
