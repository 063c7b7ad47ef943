import type { TToolDefinition } from '@fleetplane/contracts';
import { formatSchemaErrors, validateJsonSchema } from './json-schema';

export interface TObservedToolCall {
  name: string;
  /** The raw JSON string the endpoint sent (reassembled from stream deltas when streaming). */
  arguments: string;
}

export interface TToolCallVerdict {
  ok: boolean;
  problems: string[];
  /** The parsed arguments of the call that was judged, when they parsed. */
  arguments: unknown;
}

function matchesExpected(actual: unknown, expected: string | number | boolean): boolean {
  if (typeof expected === 'string') {
    return typeof actual === 'string' && actual.toLowerCase().includes(expected.toLowerCase());
  }
  return actual === expected;
}

/**
 * A tool call passes when it exists, names the expected tool (one that was offered), its arguments
 * parse as a JSON object that satisfies the tool's parameter schema, and it carries the expected values.
 */
export function evaluateToolCall(input: {
  offered: readonly TToolDefinition[];
  expectedTool: string;
  expectedArguments?: Readonly<Record<string, string | number | boolean>>;
  calls: readonly TObservedToolCall[];
}): TToolCallVerdict {
  if (input.calls.length === 0) return { ok: false, problems: ['no tool call in the response'], arguments: undefined };
  const call = input.calls.find((c) => c.name === input.expectedTool) ?? input.calls[0]!;
  const problems: string[] = [];
  if (call.name !== input.expectedTool) problems.push(`called "${call.name}", expected "${input.expectedTool}"`);
  const tool = input.offered.find((t) => t.function.name === call.name);
  if (!tool) problems.push(`"${call.name}" is not one of the offered tools`);
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch (err) {
    problems.push(`arguments are not valid JSON (${(err as Error).message}): ${call.arguments.slice(0, 200)}`);
    return { ok: false, problems, arguments: undefined };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    problems.push('arguments must be a JSON object');
    return { ok: false, problems, arguments: args };
  }
  if (tool) problems.push(...formatSchemaErrors(validateJsonSchema(tool.function.parameters, args)).map((e) => `schema: ${e}`));
  for (const [key, expected] of Object.entries(input.expectedArguments ?? {})) {
    const actual = (args as Record<string, unknown>)[key];
    if (!matchesExpected(actual, expected))
      problems.push(`argument ${key} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
  return { ok: problems.length === 0, problems, arguments: args };
}
