import { describe, expect, it } from 'vitest';
import type { TJsonSchema, TToolDefinition } from '@fleetplane/contracts';
import { validateJsonSchema } from './json-schema';
import { evaluateToolCall } from './tool-call';

const event: TJsonSchema = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    duration_minutes: { type: 'integer', minimum: 5, maximum: 480 },
    priority: { enum: ['low', 'normal', 'high'] },
    attendees: { type: 'array', items: { type: 'string' } },
    location: { type: ['string', 'null'] },
    meta: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['title', 'duration_minutes'],
  additionalProperties: false,
};

describe('validateJsonSchema', () => {
  it('accepts a conforming value', () => {
    expect(
      validateJsonSchema(event, {
        title: 'Sync',
        duration_minutes: 30,
        priority: 'high',
        attendees: ['a@x.io'],
        location: null,
        meta: { a: 1 },
      }),
    ).toEqual([]);
  });

  it('reports every violation with its path', () => {
    const errors = validateJsonSchema(event, {
      duration_minutes: 2.5,
      priority: 'urgent',
      attendees: ['a', 3],
      extra: true,
      meta: { a: 'x' },
    });
    expect(errors).toEqual([
      { path: '$.title', message: 'is required' },
      { path: '$.duration_minutes', message: 'must be integer, got number' },
      { path: '$.priority', message: 'must be one of "low", "normal", "high", got "urgent"' },
      { path: '$.attendees[1]', message: 'must be string, got integer' },
      { path: '$.extra', message: 'is not allowed (additionalProperties: false)' },
      { path: '$.meta.a', message: 'must be number, got string' },
    ]);
  });

  it('checks minimum and maximum, and the root type', () => {
    expect(validateJsonSchema(event, { title: 't', duration_minutes: 1000 })).toEqual([
      { path: '$.duration_minutes', message: 'must be ≤ 480, got 1000' },
    ]);
    expect(validateJsonSchema(event, { title: 't', duration_minutes: 1 })).toEqual([
      { path: '$.duration_minutes', message: 'must be ≥ 5, got 1' },
    ]);
    expect(validateJsonSchema(event, [1])).toEqual([{ path: '$', message: 'must be object, got array' }]);
    expect(validateJsonSchema({ type: 'number' }, Number.NaN)).toHaveLength(1);
    expect(validateJsonSchema({ type: 'integer' }, 3)).toEqual([]);
    expect(validateJsonSchema({ type: 'number' }, 3)).toEqual([]);
  });

  it('quotes awkward keys in paths', () => {
    expect(validateJsonSchema({ type: 'object', required: ['a-b'] }, {})).toEqual([{ path: '$["a-b"]', message: 'is required' }]);
  });
});

describe('evaluateToolCall', () => {
  const tools: TToolDefinition[] = [
    { type: 'function', function: { name: 'create_event', description: 'Create an event', parameters: event } },
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const base = { offered: tools, expectedTool: 'get_weather', expectedArguments: { city: 'Paris' } };

  it('passes a correct call', () => {
    const v = evaluateToolCall({ ...base, calls: [{ name: 'get_weather', arguments: '{"city":"Paris, France"}' }] });
    expect(v).toEqual({ ok: true, problems: [], arguments: { city: 'Paris, France' } });
  });

  it('fails missing calls, wrong tools, bad JSON, schema violations and wrong values', () => {
    expect(evaluateToolCall({ ...base, calls: [] }).problems).toEqual(['no tool call in the response']);
    expect(
      evaluateToolCall({ ...base, calls: [{ name: 'create_event', arguments: '{"title":"x","duration_minutes":30}' }] }).problems,
    ).toEqual(['called "create_event", expected "get_weather"', 'argument city is undefined, expected "Paris"']);
    const bad = evaluateToolCall({ ...base, calls: [{ name: 'get_weather', arguments: '{"city": "Paris"' }] });
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatch(/^arguments are not valid JSON/);
    expect(evaluateToolCall({ ...base, calls: [{ name: 'get_weather', arguments: '"Paris"' }] }).problems).toEqual([
      'arguments must be a JSON object',
    ]);
    expect(evaluateToolCall({ ...base, calls: [{ name: 'get_weather', arguments: '{"city":7}' }] }).problems).toEqual([
      'schema: $.city must be string, got integer',
      'argument city is 7, expected "Paris"',
    ]);
    expect(evaluateToolCall({ ...base, calls: [{ name: 'delete_all', arguments: '{}' }] }).problems).toContain(
      '"delete_all" is not one of the offered tools',
    );
  });
});
