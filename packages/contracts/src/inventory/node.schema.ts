import { z } from 'zod';

export const ZHostname = z
  .string()
  .trim()
  .min(1, 'Hostname is required')
  .max(253)
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    'Enter a valid hostname such as gpu-node-01',
  );

export const ZNodeFields = z.object({
  clusterId: z.string().min(1, 'Choose a cluster'),
  hostname: ZHostname,
  ipAddress: z.union([z.ipv4(), z.ipv6()], { error: 'Enter a valid IPv4 or IPv6 address' }).nullable().default(null),
  labels: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/i, 'Label keys use letters, digits, dots, dashes'), z.string().max(256))
    .default({}),
  reportIntervalSeconds: z.number().int().min(1).max(3600).default(10),
});
export const ZCreateNodeInput = ZNodeFields;
export type TCreateNodeInput = z.input<typeof ZCreateNodeInput>;
export const ZUpdateNodeInput = z.object({ id: z.string().min(1), data: ZNodeFields.omit({ clusterId: true }) });
export type TUpdateNodeInput = z.input<typeof ZUpdateNodeInput>;

export const ZNodeListInput = z.object({
  clusterId: z.string().optional(),
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(200).default(25),
  sortBy: z.enum(['hostname', 'health', 'lastSeenAt', 'gpuCount', 'createdAt']).default('hostname'),
  sortDir: z.enum(['asc', 'desc']).default('asc'),
  search: z.string().trim().max(200).optional(),
});
