import { z } from 'zod';

export const INTERCONNECTS = ['nvlink', 'nvswitch', 'pcie', 'infinity_fabric', 'hccs', 'unified_memory'] as const;
export const ZInterconnect = z.enum(INTERCONNECTS);
export type TInterconnect = z.infer<typeof ZInterconnect>;

/** NVML UUID as printed by nvidia-smi, e.g. GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b. */
export const ZGpuUuid = z
  .string()
  .trim()
  .regex(
    /^(GPU|MIG)-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'Enter the GPU UUID as nvidia-smi prints it (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
  );

export const ZPciBusId = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(\.[0-7])?$/, 'Use the PCI bus id format 00000000:18:00.0');

export const ZGpuFields = z.object({
  nodeId: z.string().min(1, 'Choose a node'),
  uuid: ZGpuUuid,
  index: z.number().int().min(0, 'Index starts at 0').max(63),
  model: z.string().trim().min(2, 'GPU model is required').max(100),
  memoryMib: z.number().int().min(1024, 'At least 1 GiB').max(1_048_576, 'At most 1 TiB'),
  interconnect: ZInterconnect,
  pciBusId: ZPciBusId.nullable().default(null),
});
export const ZCreateGpuInput = ZGpuFields;
export type TCreateGpuInput = z.input<typeof ZCreateGpuInput>;
export const ZUpdateGpuInput = z.object({ id: z.string().min(1), data: ZGpuFields.omit({ nodeId: true, uuid: true }) });
export type TUpdateGpuInput = z.input<typeof ZUpdateGpuInput>;
