import { describe, expect, it } from 'vitest';
import type { TJsonSchema } from '@fleetplane/contracts';
import { scoreExactAnswer, scoreNeedleAnswer, validateJsonSchema } from '@fleetplane/domain';
import { EXACT_ANSWER_TASKS, REASONING_PROMPTS, TOOL_CASES, buildHaystack, toolsFor } from '@fleetplane/validation';
import type { TChatCompletionRequest } from './chat-request.schema';
import { planAnswer, synthesiseArguments, type TPlan } from './model';

const req = (content: string, over: Partial<TChatCompletionRequest> = {}): TChatCompletionRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...over,
});
const ctx = (degradations = {}) => ({ seed: 1, degradations, requestNumber: 1 });
const text = (p: TPlan, kind: string) =>
  p.pieces
    .filter((x) => x.kind === kind)
    .map((x) => x.text)
    .join('');

describe('planAnswer', () => {
  it('answers every shipped exact-answer and reasoning task correctly by default', () => {
    for (const t of [...EXACT_ANSWER_TASKS, ...REASONING_PROMPTS]) {
      const p = planAnswer(req(t.prompt), ctx());
      expect(scoreExactAnswer(t.expected, text(p, 'content')).correct, t.id).toBe(true);
      expect(text(p, 'reasoning')).toBe('');
      expect(p.finishReason).toBe('stop');
    }
  });

  it('thinks only when asked (thinking or enable_thinking), or when reasoning leaks', () => {
    const t = REASONING_PROMPTS[0]!;
    expect(text(planAnswer(req(t.prompt, { chat_template_kwargs: { thinking: true } }), ctx()), 'reasoning')).toBe(t.solution);
    expect(text(planAnswer(req(t.prompt, { chat_template_kwargs: { enable_thinking: true } }), ctx()), 'reasoning')).toBe(t.solution);
    expect(text(planAnswer(req(t.prompt, { chat_template_kwargs: { thinking: false } }), ctx()), 'reasoning')).toBe('');
    expect(text(planAnswer(req(t.prompt), ctx({ reasoningLeak: true })), 'reasoning')).toBe(t.solution);
  });

  it('answers wrongly for a deterministic share of prompts', () => {
    const wrong = (rate: number, seed: number) =>
      EXACT_ANSWER_TASKS.filter(
        (t) =>
          !scoreExactAnswer(t.expected, text(planAnswer(req(t.prompt), { ...ctx({ wrongAnswerRate: rate }), seed }), 'content')).correct,
      ).map((t) => t.id);
    const half = wrong(0.5, 1);
    expect(half.length).toBeGreaterThan(EXACT_ANSWER_TASKS.length * 0.25);
    expect(half.length).toBeLessThan(EXACT_ANSWER_TASKS.length * 0.75);
    expect(wrong(0.5, 1)).toEqual(half);
    expect(wrong(0.5, 2)).not.toEqual(half);
    expect(wrong(1, 1)).toHaveLength(EXACT_ANSWER_TASKS.length);
    expect(wrong(0, 1)).toHaveLength(0);
  });

  it('finds needles by searching the prompt, and loses those beyond N tokens', () => {
    const near = buildHaystack({ targetTokens: 4096, depth: 0.25 });
    const far = buildHaystack({ targetTokens: 4096, depth: 1 });
    expect(text(planAnswer(req(near.prompt), ctx()), 'content')).toBe(near.code);
    expect(text(planAnswer(req(far.prompt), ctx()), 'content')).toBe(far.code);
    const lost = ctx({ loseNeedlesBeyondTokens: 2000 });
    expect(scoreNeedleAnswer(near.code, text(planAnswer(req(near.prompt), lost), 'content')).correct).toBe(true);
    expect(text(planAnswer(req(far.prompt), lost), 'content')).toBe(`I could not find a pass code for ${far.city} in the document.`);
  });

  it('calls the tool the prompt names, with arguments satisfying its schema', () => {
    for (const c of TOOL_CASES) {
      const tools = toolsFor(c.offeredTools);
      const p = planAnswer(req(c.prompt, { tools }), ctx());
      expect(p.toolCall?.name, c.id).toBe(c.expectedTool);
      expect(p.finishReason).toBe('tool_calls');
      expect(JSON.parse(text(p, 'tool_args'))).toEqual(c.referenceArguments);
    }
    const p = planAnswer(
      req('Please use lookup_order for order 77.', { tools: toolsFor(['get_weather', 'lookup_order']) }),
      ctx({ malformedToolCallJson: true }),
    );
    expect(p.toolCall?.name).toBe('lookup_order');
    expect(() => JSON.parse(text(p, 'tool_args'))).toThrow();
    expect(planAnswer(req('use get_weather', { tools: toolsFor(['get_weather']), tool_choice: 'none' }), ctx()).toolCall).toBeNull();
  });

  it('synthesises schema-valid arguments for unknown prompts', () => {
    for (const tool of toolsFor(['get_weather', 'convert_currency', 'create_calendar_event', 'search_flights', 'lookup_order'])) {
      const args = synthesiseArguments(tool.function.parameters, 'Use it for Lisbon with 3 people in business class, 250 EUR to NOK.');
      expect(validateJsonSchema(tool.function.parameters as TJsonSchema, args), tool.function.name).toEqual([]);
    }
    expect(
      synthesiseArguments({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, 'Use get_weather for Paris'),
    ).toEqual({ city: 'Paris' });
  });

  it('honours max_tokens and ignore_eos', () => {
    const long = planAnswer(req('hello', { max_tokens: 100, ignore_eos: true }), ctx());
    expect(long.pieces).toHaveLength(100);
    expect(long.finishReason).toBe('length');
    const cut = planAnswer(req('hello', { max_tokens: 3 }), ctx());
    expect(cut.pieces).toHaveLength(3);
    expect(cut.finishReason).toBe('length');
    expect(planAnswer(req('hello'), ctx()).finishReason).toBe('stop');
  });
});
