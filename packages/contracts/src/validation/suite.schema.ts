import { z } from 'zod';
import { ZCheckDefinition } from './check-definition.schema';

/** A suite is versioned data: editing it creates a new version; old runs keep theirs. */
export const ZValidationSuite = z
  .object({
    name: z
      .string()
      .trim()
      .min(2)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'Use lower-case letters, digits and dashes'),
    version: z.number().int().min(1),
    description: z.string().trim().max(2000).default(''),
    checks: z.array(ZCheckDefinition).min(1, 'A suite needs at least one check'),
  })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    for (const [i, check] of suite.checks.entries()) {
      if (seen.has(check.key)) ctx.addIssue({ code: 'custom', path: ['checks', i, 'key'], message: `Duplicate check key "${check.key}"` });
      seen.add(check.key);
    }
  });
export type TValidationSuite = z.infer<typeof ZValidationSuite>;
export type TValidationSuiteInput = z.input<typeof ZValidationSuite>;
