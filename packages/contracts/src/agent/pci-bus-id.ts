import { z } from 'zod';

/** The canonical form every agent payload uses: nvidia-smi's 8-hex domain, upper case, with the function. */
export const NORMALISED_PCI_BUS_ID_PATTERN = /^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.[0-7]$/;

export const ZNormalisedPciBusId = z
  .string()
  .regex(NORMALISED_PCI_BUS_ID_PATTERN, 'PCI bus ids are sent normalised, e.g. 00000000:3B:00.0');

const PCI_PATTERN = /^(?:PCI:)?(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/;

/**
 * Joins the two spellings of one GPU: kernel Xid lines print `PCI:0000:3b:00` (4-hex domain, no function)
 * while nvidia-smi prints `00000000:3B:00.0`. Returns null for anything that is not a PCI address.
 */
export function normalisePciBusId(raw: string): string | null {
  const match = PCI_PATTERN.exec(raw.trim());
  if (!match) return null;
  const [, domain = '0', bus = '', device = '', fn = '0'] = match;
  const hex = (value: string, width: number) => value.toUpperCase().padStart(width, '0');
  return `${hex(domain, 8)}:${hex(bus, 2)}:${hex(device, 2)}.${fn}`;
}
