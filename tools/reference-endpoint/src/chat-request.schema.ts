import { z } from 'zod';

const ZContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ZChatMessage = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']),
  content: z.union([z.string(), z.array(ZContentPart), z.null()]).optional(),
});

export const ZToolParam = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    // Any JSON schema; the model reads the subset it understands.
    parameters: z.unknown().optional(),
  }),
});

/** The OpenAI chat-completions fields the reference model reads; unknown fields are accepted (as vLLM does). */
export const ZChatCompletionRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(ZChatMessage).min(1),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().optional(), continuous_usage_stats: z.boolean().optional() })
    .nullable()
    .optional(),
  tools: z.array(ZToolParam).nullable().optional(),
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.literal('function'), function: z.object({ name: z.string() }) })])
    .nullable()
    .optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  ignore_eos: z.boolean().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  seed: z.number().int().nullable().optional(),
});
export type TChatCompletionRequest = z.infer<typeof ZChatCompletionRequest>;
export type TChatMessage = z.infer<typeof ZChatMessage>;
export type TToolParam = z.infer<typeof ZToolParam>;

export function messageText(m: TChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => p.text ?? '').join('');
  return '';
}
