import { describe, expect, it } from 'vitest';
import { ChatStreamAccumulator } from './sse-accumulator';

const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('ChatStreamAccumulator', () => {
  it('times TTFT at the first token-bearing chunk and ITL between such chunks (vLLM bench rules)', () => {
    const a = new ChatStreamAccumulator();
    a.push(chunk({ role: 'assistant', content: '' }), 100); // role only: not a token
    a.push(chunk({ reasoning: 'think' }), 110);
    a.push(chunk({ content: 'Hel' }), 115);
    a.push(chunk({ content: 'lo' }), 130);
    a.push(chunk({}, 'stop'), 131); // no text: no ITL entry
    a.push(JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } }), 132);
    a.push('[DONE]', 140);
    expect(a.ttftAt).toBe(110);
    expect(a.itlMs).toEqual([5, 15]);
    expect(a.lastEventAt).toBe(132); // [DONE] is not an event with data
    expect(a.content).toBe('Hello');
    expect(a.reasoning).toBe('think');
    expect(a.finishReason).toBe('stop');
    expect(a.usage).toEqual({ promptTokens: 12, completionTokens: 3 });
    expect(a.done).toBe(true);
    expect(a.error).toBeNull();
  });

  it('reads SGLang/older vLLM reasoning_content', () => {
    const a = new ChatStreamAccumulator();
    a.push(chunk({ reasoning_content: 'why' }), 1);
    expect(a.reasoning).toBe('why');
  });

  it('joins tool-call fragments by index', () => {
    const a = new ChatStreamAccumulator();
    a.push(chunk({ tool_calls: [{ index: 0, id: 'call-a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }), 1);
    a.push(chunk({ tool_calls: [{ index: 1, id: 'call-b', type: 'function', function: { name: 'lookup_order', arguments: '' } }] }), 2);
    a.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }), 3);
    a.push(chunk({ tool_calls: [{ index: 1, function: { arguments: '{"order_id":"1"}' } }] }), 4);
    a.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }), 5);
    a.push(chunk({}, 'tool_calls'), 6);
    expect(a.toolCalls).toEqual([
      { index: 0, id: 'call-a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { index: 1, id: 'call-b', name: 'lookup_order', arguments: '{"order_id":"1"}' },
    ]);
    expect(a.ttftAt).toBe(1);
    expect(a.itlMs).toEqual([1, 1, 1, 1]);
  });

  it('records error events and unparseable data', () => {
    const a = new ChatStreamAccumulator();
    a.push(JSON.stringify({ error: { message: 'engine died', type: 'InternalServerError', code: 500 } }), 1);
    expect(a.error).toBe('engine died');
    const b = new ChatStreamAccumulator();
    b.push('{not json', 1);
    expect(b.error).toBe('unparseable stream event: {not json');
  });
});

describe('ChatStreamAccumulator without text', () => {
  it('times the same chunks but keeps no content or reasoning', () => {
    const a = new ChatStreamAccumulator(false);
    a.push(chunk({ role: 'assistant', content: '' }), 100);
    a.push(chunk({ reasoning: 'think' }), 110);
    a.push(chunk({ content: 'Hel' }), 115);
    a.push(chunk({ content: 'lo' }), 130);
    a.push(chunk({}, 'length'), 131);
    expect(a.ttftAt).toBe(110);
    expect(a.itlMs).toEqual([5, 15]);
    expect(a.content).toBe('');
    expect(a.reasoning).toBe('');
    expect(a.finishReason).toBe('length');
  });
});
