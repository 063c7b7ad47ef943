import { z } from 'zod';
import { ZExactAnswerCategory } from './check-definition.schema';

/**
 * Expected answers are compared, never executed: numbers by value (so "42", "42.0" and "4.2e1" agree)
 * with an optional unit, text case- and whitespace-insensitively against the value and its aliases.
 */
export const ZExpectedAnswer = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('number'),
    value: z.number().finite(),
    unit: z.string().min(1).max(32).optional(),
    /** Absolute tolerance; defaults to a tiny epsilon. */
    tolerance: z.number().min(0).optional(),
  }),
  z.object({
    type: z.literal('text'),
    value: z.string().min(1).max(500),
    aliases: z.array(z.string().min(1).max(500)).optional(),
  }),
]);
export type TExpectedAnswer = z.infer<typeof ZExpectedAnswer>;

const taskId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/)
  .max(64);

export const ZExactAnswerTask = z.object({
  id: taskId,
  category: ZExactAnswerCategory,
  /** The complete user message, instructions included: endpoints see exactly this text. */
  prompt: z.string().min(1),
  expected: ZExpectedAnswer,
});
export type TExactAnswerTask = z.infer<typeof ZExactAnswerTask>;

export const ZReasoningPrompt = z.object({
  id: taskId,
  prompt: z.string().min(1),
  expected: ZExpectedAnswer,
  /** A short worked solution; the reference endpoint uses it as its thinking text. */
  solution: z.string().min(1),
});
export type TReasoningPrompt = z.infer<typeof ZReasoningPrompt>;

export const JSON_SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;
export type TJsonSchemaType = (typeof JSON_SCHEMA_TYPES)[number];

/** The JSON-schema subset tool parameters use here (and that the validator implements). */
export interface TJsonSchema {
  type?: TJsonSchemaType | TJsonSchemaType[];
  description?: string;
  properties?: Record<string, TJsonSchema>;
  required?: string[];
  enum?: (string | number | boolean | null)[];
  items?: TJsonSchema;
  minimum?: number;
  maximum?: number;
  additionalProperties?: boolean | TJsonSchema;
}
const ZJsonSchemaType = z.enum(JSON_SCHEMA_TYPES);
export const ZJsonSchema: z.ZodType<TJsonSchema> = z.lazy(() =>
  z
    .object({
      type: z.union([ZJsonSchemaType, z.array(ZJsonSchemaType).min(1)]).optional(),
      description: z.string().optional(),
      properties: z.record(z.string(), ZJsonSchema).optional(),
      required: z.array(z.string()).optional(),
      enum: z
        .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
        .min(1)
        .optional(),
      items: ZJsonSchema.optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      additionalProperties: z.union([z.boolean(), ZJsonSchema]).optional(),
    })
    .strict(),
);

/** An OpenAI `tools[]` entry. */
export const ZToolDefinition = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    description: z.string().min(1),
    parameters: ZJsonSchema,
  }),
});
export type TToolDefinition = z.infer<typeof ZToolDefinition>;

export const ZToolCase = z.object({
  id: taskId,
  prompt: z.string().min(1),
  /** Names of the tools offered with the prompt (from the shipped tool set). */
  offeredTools: z.array(z.string()).min(1),
  expectedTool: z.string(),
  /** Argument values the call must carry; strings match case-insensitively by containment. */
  expectedArguments: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Arguments a correct call would carry in full (the reference endpoint answers with these). */
  referenceArguments: z.record(z.string(), z.unknown()),
});
export type TToolCase = z.infer<typeof ZToolCase>;
export type TToolCaseInput = z.input<typeof ZToolCase>;
