import { parse } from 'csv-parse/sync';

/** Thrown when nvidia-smi printed something that is not the CSV we asked for. */
export class SmiParseError extends Error {
  override readonly name = 'SmiParseError';
}

// nvidia-smi accepts aliases and, since driver 535, renamed clocks_throttle_reasons.* to clocks_event_reasons.*.
const ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  gpu_serial: 'serial',
  gpu_bus_id: 'pci.bus_id',
  'clocks.sm': 'clocks.current.sm',
  'clocks.gr': 'clocks.current.graphics',
  'clocks.mem': 'clocks.current.memory',
  'clocks.video': 'clocks.current.video',
  'clocks.max.gr': 'clocks.max.graphics',
  'clocks.max.mem': 'clocks.max.memory',
  'retired_pages.sbe': 'retired_pages.single_bit_ecc.count',
  'retired_pages.dbe': 'retired_pages.double_bit.count',
};

export function canonicalSmiField(name: string): string {
  const field = name.trim();
  if (field.startsWith('clocks_throttle_reasons.')) return `clocks_event_reasons.${field.slice('clocks_throttle_reasons.'.length)}`;
  return ALIASES[field] ?? field;
}

/** One printed row: canonical field name -> cell text as printed, with the column's unit suffix removed. */
export type SmiRow = ReadonlyMap<string, string>;

export interface SmiTable {
  fields: string[];
  rows: SmiRow[];
}

/**
 * Parses `--format=csv[,noheader][,nounits]` output. Columns are mapped by name: from the header (with
 * ` [unit]` stripped) when there is one, else from the query list that was sent.
 */
export function parseSmiCsv(text: string, options: { header: boolean; fields?: readonly string[] }): SmiTable {
  let records: string[][];
  try {
    records = parse(text, { delimiter: ', ', trim: true, quote: false, skip_empty_lines: true, relax_quotes: true }) as string[][];
  } catch (err) {
    throw new SmiParseError(`output is not ", "-separated CSV: ${(err as Error).message}`);
  }
  let names: string[];
  let units: Array<string | null>;
  if (options.header) {
    const header = records.shift();
    if (!header) throw new SmiParseError('output has no header line');
    const columns = header.map((h) => /^(.*?)(?: \[([^\]]+)\])?$/.exec(h)!);
    names = columns.map((c) => canonicalSmiField(c[1]!));
    units = columns.map((c) => c[2] ?? null);
  } else {
    if (!options.fields) throw new SmiParseError('noheader output needs the query field list');
    names = options.fields.map(canonicalSmiField);
    units = names.map(() => null);
  }
  if (options.fields) {
    const expected = options.fields.map(canonicalSmiField);
    if (options.header && expected.join(',') !== names.join(',')) {
      throw new SmiParseError(`header columns (${names.join(', ')}) do not match the query (${expected.join(', ')})`);
    }
  }
  const rows = records.map((record, i) => {
    if (record.length !== names.length) throw new SmiParseError(`row ${i + 1} has ${record.length} columns, expected ${names.length}`);
    const row = new Map<string, string>();
    record.forEach((cell, c) => {
      const unit = units[c];
      row.set(names[c]!, unit && cell.endsWith(` ${unit}`) ? cell.slice(0, -unit.length - 1) : cell);
    });
    return row as SmiRow;
  });
  return { fields: names, rows };
}

/** Any `[...]` (N/A, Not Supported, Unknown Error, GPU requires reset, ...), a bare `N/A` or an empty cell means "not reported". */
export function smiText(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const value = raw.trim();
  if (value === '' || value === 'N/A' || /^\[.*\]$/.test(value)) return null;
  return value;
}

// Bracketed markers that only say "this value is not reported here": the field does not apply to this
// GPU, driver or mode (MIG, a consumer card, a field NVIDIA retired). Every other bracketed text is the
// driver failing to read a value that should be there ([GPU requires reset], [Unknown Error], [GPU is
// lost], [Insufficient Permissions], ...): the GPU, or our access to it, is in trouble.
const NOT_REPORTED_MARKERS = new Set(['n/a', 'not supported', 'not available', 'requested functionality has been deprecated']);

/**
 * The error marker in a cell, exactly as printed (`[GPU requires reset]`), or null when the cell holds a
 * value or a "not reported" marker (`[N/A]`, `[Not Supported]`, ...). The reading stays null either way.
 */
export function smiErrorMarker(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const value = raw.trim();
  const match = /^\[(.*)\]$/.exec(value);
  if (!match) return null;
  return NOT_REPORTED_MARKERS.has(match[1]!.trim().toLowerCase()) ? null : value;
}

export function smiInt(raw: string | undefined): number | null {
  const value = smiText(raw);
  if (value === null || !/^-?\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

export function smiFloat(raw: string | undefined): number | null {
  const value = smiText(raw);
  if (value === null || !/^-?\d+(\.\d+)?$/.test(value)) return null;
  return Number(value);
}

/** Bitmasks print as 0x0000000000000001. */
export function smiHex(raw: string | undefined): number | null {
  const value = smiText(raw);
  if (value === null || !/^0x[0-9a-fA-F]{1,16}$/.test(value)) return null;
  const n = BigInt(value);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
}

/** `--query-gpu` prints Yes/No, `--query-remapped-rows` prints 1/0. */
export function smiBool(raw: string | undefined): boolean | null {
  const value = smiText(raw)?.toLowerCase();
  if (value === 'yes' || value === '1' || value === 'true') return true;
  if (value === 'no' || value === '0' || value === 'false') return false;
  return null;
}
