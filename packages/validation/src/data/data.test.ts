import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { EXACT_ANSWER_CATEGORIES, ZValidationSuite } from '@fleetplane/contracts';
import { countApproxChatTokens, countApproxTokens, formatExpected, scoreExactAnswer, validateJsonSchema } from '@fleetplane/domain';
import { CODE_TASK_SOURCES, EXACT_ANSWER_TASKS } from './exact-answer-tasks';
import { NEEDLE_PATTERN, NEEDLE_QUESTION_PATTERN, buildHaystack, buildSyntheticPrompt } from './haystack';
import { REASONING_PROMPTS } from './reasoning-prompts';
import { BUILTIN_SUITES, DEFAULT_BASELINE_GATES, builtinSuite } from './suites';
import { TOOL_CASES, TOOL_DEFINITIONS, toolsFor } from './tool-cases';

describe('exact-answer task set', () => {
  it('has at least 40 tasks with unique ids across all four categories', () => {
    expect(EXACT_ANSWER_TASKS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(EXACT_ANSWER_TASKS.map((t) => t.id)).size).toBe(EXACT_ANSWER_TASKS.length);
    expect(new Set(EXACT_ANSWER_TASKS.map((t) => t.prompt)).size).toBe(EXACT_ANSWER_TASKS.length);
    for (const c of EXACT_ANSWER_CATEGORIES)
      expect(EXACT_ANSWER_TASKS.filter((t) => t.category === c).length, c).toBeGreaterThanOrEqual(10);
  });

  it('accepts its own expected answers (the keys are self-consistent)', () => {
    for (const t of [...EXACT_ANSWER_TASKS, ...REASONING_PROMPTS]) {
      expect(scoreExactAnswer(t.expected, formatExpected(t.expected)).correct, t.id).toBe(true);
    }
  });

  it('has code answers that match what the programs really print', () => {
    for (const [id, src] of Object.entries(CODE_TASK_SOURCES)) {
      const printed: string[] = [];
      runInNewContext(src, { console: { log: (...a: unknown[]) => printed.push(a.map(String).join(' ')) }, Map, Math, parseInt, Number });
      const task = EXACT_ANSWER_TASKS.find((t) => t.id === id)!;
      expect(printed, id).toHaveLength(1);
      expect(scoreExactAnswer(task.expected, printed[0]!).correct, `${id} printed ${printed[0]}`).toBe(true);
      expect(task.prompt).toContain(src);
    }
  });

  it('spot-checks hand-verifiable keys', () => {
    const byId = (id: string) => EXACT_ANSWER_TASKS.find((t) => t.id === id)!.expected;
    expect(byId('arith-mul')).toEqual({ type: 'number', value: 391 });
    expect(byId('unit-miles-km')).toMatchObject({ value: 8.05, unit: 'km' });
    expect(byId('unit-f-c')).toMatchObject({ value: 37.8 });
    expect(byId('extract-order-total')).toMatchObject({ value: 12.5, unit: 'USD' });
    expect(byId('arith-mod')).toMatchObject({ value: 6 });
  });
});

describe('tool cases', () => {
  it('offer known tools and have reference arguments that satisfy the schemas and expectations', () => {
    for (const c of TOOL_CASES) {
      const tool = toolsFor([c.expectedTool])[0]!;
      expect(validateJsonSchema(tool.function.parameters, c.referenceArguments), c.id).toEqual([]);
      for (const [k, v] of Object.entries(c.expectedArguments)) {
        const actual = c.referenceArguments[k];
        expect(typeof v === 'string' ? String(actual).toLowerCase().includes(v.toLowerCase()) : actual === v, `${c.id}.${k}`).toBe(true);
      }
      expect(c.prompt).toContain(c.expectedTool);
    }
    expect(() => toolsFor(['nope'])).toThrow('Unknown tool nope');
    expect(TOOL_DEFINITIONS.length).toBeGreaterThanOrEqual(4);
  });
});

describe('haystacks', () => {
  it('places one needle at the requested depth within the token budget', () => {
    for (const depth of [0, 0.25, 0.5, 0.75, 1]) {
      const h = buildHaystack({ targetTokens: 4096, depth, seed: 1 });
      expect(h.approxTokens).toBeLessThanOrEqual(4096);
      expect(h.approxTokens).toBeGreaterThan(4000);
      expect(countApproxChatTokens([{ content: h.prompt }])).toBe(h.approxTokens);
      const needles = [...h.prompt.matchAll(NEEDLE_PATTERN)];
      expect(needles).toHaveLength(1);
      expect(needles[0]![1]).toBe(h.city);
      expect(needles[0]![2]).toBe(h.code);
      expect(NEEDLE_QUESTION_PATTERN.exec(h.prompt)?.[1]).toBe(h.city);
      const at = countApproxTokens(h.prompt.slice(0, needles[0]!.index)) + 6;
      expect(at).toBe(h.needleOffsetTokens);
      expect(Math.abs(h.needleOffsetTokens / h.approxTokens - depth)).toBeLessThan(0.05);
    }
  });

  it('is deterministic per (seed, size, depth) and has no stray digits in the filler', () => {
    const a = buildHaystack({ targetTokens: 2048, depth: 0.5, seed: 4 });
    expect(buildHaystack({ targetTokens: 2048, depth: 0.5, seed: 4 })).toEqual(a);
    expect(buildHaystack({ targetTokens: 2048, depth: 0.5, seed: 5 }).prompt).not.toBe(a.prompt);
    const withoutNeedle = a.prompt.replace(NEEDLE_PATTERN, '').split('</document>')[0]!;
    expect(withoutNeedle).not.toMatch(/\d/);
    expect(() => buildHaystack({ targetTokens: 2048, depth: 2 })).toThrow(RangeError);
  });

  it('builds a million-token haystack quickly', () => {
    const t0 = performance.now();
    const h = buildHaystack({ targetTokens: 1_048_576, depth: 0.9 });
    expect(h.approxTokens).toBeGreaterThan(1_040_000);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('builds distinct synthetic prompts of about the requested size', () => {
    const a = buildSyntheticPrompt({ tokens: 512, index: 0 });
    const b = buildSyntheticPrompt({ tokens: 512, index: 1 });
    expect(a).not.toBe(b);
    const size = countApproxChatTokens([{ content: a }]);
    expect(size).toBeLessThanOrEqual(512);
    expect(size).toBeGreaterThan(490);
  });
});

describe('built-in suites', () => {
  it('ship smoke and release-gate, valid and referencing real data', () => {
    expect(BUILTIN_SUITES.map((s) => s.name)).toEqual(['smoke', 'release-gate']);
    for (const s of BUILTIN_SUITES) {
      expect(ZValidationSuite.parse(s)).toEqual(s);
      expect(new Set(s.checks.map((c) => c.kind)).size).toBe(6);
    }
    const smoke = builtinSuite('smoke')!;
    const exact = smoke.checks.find((c) => c.kind === 'exact_answer')!;
    expect(exact.kind === 'exact_answer' && exact.params.taskIds?.length).toBe(10);
    for (const c of smoke.checks) {
      if (c.kind === 'exact_answer')
        for (const id of c.params.taskIds ?? [])
          expect(
            EXACT_ANSWER_TASKS.some((t) => t.id === id),
            id,
          ).toBe(true);
      if (c.kind === 'tool_calling')
        for (const id of c.params.caseIds ?? [])
          expect(
            TOOL_CASES.some((t) => t.id === id),
            id,
          ).toBe(true);
      if (c.kind === 'reasoning_modes')
        for (const id of c.params.promptIds ?? [])
          expect(
            REASONING_PROMPTS.some((t) => t.id === id),
            id,
          ).toBe(true);
    }
    const gate = builtinSuite('release-gate')!;
    const perf = gate.checks.find((c) => c.kind === 'performance')!;
    expect(perf.kind === 'performance' && perf.params.concurrencyLevels).toEqual([1, 8, 32, 64]);
    const lc = gate.checks.find((c) => c.kind === 'long_context')!;
    expect(lc.kind === 'long_context' && lc.params.contextLengths).toEqual([8192, 32768, 131072, 'max']);
    expect(builtinSuite('nope')).toBeUndefined();
  });

  it('baseline gates point at checks of the release gate', () => {
    const keys = builtinSuite('release-gate')!.checks.map((c) => c.key);
    for (const g of DEFAULT_BASELINE_GATES) expect(keys).toContain(g.checkKey);
  });
});
