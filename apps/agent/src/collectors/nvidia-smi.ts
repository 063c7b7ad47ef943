import {
  MAX_GPU_ERROR_MARKER_LENGTH,
  MAX_GPU_ERROR_STATES,
  normalisePciBusId,
  ZAgentVersionString,
  ZGpuSample,
  ZGpuUuid,
  type TGpuErrorState,
  type TGpuSample,
} from '@fleetplane/contracts';
import { ExecError, runTool } from './exec';
import {
  canonicalSmiField,
  parseSmiCsv,
  smiBool,
  smiErrorMarker,
  smiFloat,
  smiHex,
  smiInt,
  smiText,
  SmiParseError,
  type SmiRow,
} from './nvidia-smi-csv';

export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.current.sm',
  'ecc.errors.corrected.volatile.total',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_event_reasons.active',
] as const;

export const REMAPPED_ROWS_QUERY_FIELDS = [
  'gpu_bus_id',
  'gpu_uuid',
  'remapped_rows.correctable',
  'remapped_rows.uncorrectable',
  'remapped_rows.pending',
  'remapped_rows.failure',
] as const;

export const NVIDIA_SMI_TIMEOUT_MS = 5000;

type Reading = Exclude<keyof TGpuSample, 'sampledAt' | 'uuid' | 'index' | 'name' | 'pciBusId' | 'errorStates'>;

/** A GPU's identity from an earlier cycle, by normalised PCI id: a GPU in trouble may print markers even for its UUID. */
export type KnownGpus = ReadonlyMap<string, { uuid: string; index: number; name: string }>;

const QUERIED = new Set<string>([...GPU_QUERY_FIELDS, ...REMAPPED_ROWS_QUERY_FIELDS].map(canonicalSmiField));

/**
 * Every error marker in the row (and its remapped-rows row), one per field: the fields the agent reads
 * first, in column order, then any others a wider query printed, up to the contract's bound.
 */
function errorStates(row: SmiRow, remap: SmiRow | undefined): TGpuErrorState[] {
  const found = new Map<string, string>();
  for (const source of remap ? [row, remap] : [row]) {
    for (const [field, cell] of source) {
      const marker = smiErrorMarker(cell);
      if (marker && !found.has(field)) found.set(field, marker);
    }
  }
  const ordered = [...found].sort(([a], [b]) => Number(QUERIED.has(b)) - Number(QUERIED.has(a)));
  return ordered
    .slice(0, MAX_GPU_ERROR_STATES)
    .map(([field, marker]) => ({ field: field.slice(0, 128), marker: marker.slice(0, MAX_GPU_ERROR_MARKER_LENGTH) }));
}

/**
 * Turns query rows (plus the optional remapped-rows table) into contract samples. Bad rows are skipped, bad
 * readings nulled. Error markers (`[GPU requires reset]`, ...) null their reading too but travel in
 * `errorStates`, so the server can tell a GPU in trouble from one that has nothing to report.
 */
export function toGpuSamples(
  rows: readonly SmiRow[],
  remapped: readonly SmiRow[],
  sampledAt: Date,
  known: KnownGpus = new Map(),
): { samples: TGpuSample[]; problems: string[] } {
  const problems: string[] = [];
  const remapByUuid = new Map<string, SmiRow>();
  const remapByBus = new Map<string, SmiRow>();
  for (const r of remapped) {
    const uuid = smiText(r.get('uuid'));
    const bus = normalisePciBusId(smiText(r.get('pci.bus_id')) ?? '');
    if (uuid) remapByUuid.set(uuid, r);
    if (bus) remapByBus.set(bus, r);
  }
  const samples: TGpuSample[] = [];
  for (const row of rows) {
    const pciBusId = normalisePciBusId(smiText(row.get('pci.bus_id')) ?? '');
    // A GPU that needs a reset can print a marker even for its identity: take it from an earlier cycle.
    const before = pciBusId ? known.get(pciBusId) : undefined;
    const uuid = smiText(row.get('uuid')) ?? before?.uuid ?? null;
    const index = smiInt(row.get('index')) ?? before?.index ?? null;
    const name = smiText(row.get('name')) ?? before?.name ?? null;
    if (!uuid || !ZGpuUuid.safeParse(uuid).success || !pciBusId || index === null || !name) {
      problems.push(
        `skipped a GPU row without a usable uuid/pci.bus_id/index/name (uuid=${uuid ?? 'n/a'}, pci.bus_id=${row.get('pci.bus_id') ?? 'n/a'})`,
      );
      continue;
    }
    const remap = remapByUuid.get(uuid) ?? remapByBus.get(pciBusId);
    const readings: Record<Reading, number | boolean | null> = {
      memoryTotalMib: smiInt(row.get('memory.total')),
      memoryUsedMib: smiInt(row.get('memory.used')),
      utilizationGpuPct: smiFloat(row.get('utilization.gpu')),
      utilizationMemoryPct: smiFloat(row.get('utilization.memory')),
      temperatureC: smiFloat(row.get('temperature.gpu')),
      powerDrawW: smiFloat(row.get('power.draw')),
      powerLimitW: smiFloat(row.get('power.limit')),
      smClockMhz: smiInt(row.get('clocks.current.sm')),
      eccCorrectedVolatile: smiInt(row.get('ecc.errors.corrected.volatile.total')),
      eccUncorrectedVolatile: smiInt(row.get('ecc.errors.uncorrected.volatile.total')),
      clocksEventReasons: smiHex(row.get('clocks_event_reasons.active')),
      remappedRowsCorrectable: smiInt(remap?.get('remapped_rows.correctable')),
      remappedRowsUncorrectable: smiInt(remap?.get('remapped_rows.uncorrectable')),
      remappedRowsPending: smiBool(remap?.get('remapped_rows.pending')),
      remappedRowsFailure: smiBool(remap?.get('remapped_rows.failure')),
    };
    const states = errorStates(row, remap);
    const sample = {
      sampledAt: sampledAt.toISOString(),
      uuid,
      index,
      name: name.slice(0, 128),
      pciBusId,
      ...readings,
      ...(states.length > 0 ? { errorStates: states } : {}),
    };
    // A reading outside the contract's bounds (a driver glitch) becomes "not reported" rather than sinking the batch.
    const checked = ZGpuSample.safeParse(sample);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const key = issue.path[0] as Reading;
        if (key in readings) {
          problems.push(`GPU ${uuid}: ${key}=${String(readings[key])} is out of range; reported as null`);
          (sample as Record<string, unknown>)[key] = null;
        }
      }
    }
    const final = ZGpuSample.safeParse(sample);
    if (final.success) samples.push(final.data);
    else problems.push(`GPU ${uuid}: sample rejected (${final.error.issues.map((i) => i.path.join('.')).join(', ')})`);
  }
  return { samples, problems };
}

export interface GpuCollection {
  samples: TGpuSample[];
  /** Set when this cycle has no GPU samples because nvidia-smi failed. */
  error: string | null;
  warnings: string[];
}

export class NvidiaSmiCollector {
  private reasonsField = 'clocks_event_reasons.active';
  private readonly known = new Map<string, { uuid: string; index: number; name: string }>();

  constructor(
    private readonly binary: string,
    private readonly timeoutMs: number = NVIDIA_SMI_TIMEOUT_MS,
  ) {}

  private async query(fields: readonly string[], flag: '--query-gpu' | '--query-remapped-rows', format: string) {
    const { stdout } = await runTool(this.binary, [`${flag}=${fields.join(',')}`, `--format=${format}`], this.timeoutMs, 'nvidia-smi');
    return parseSmiCsv(stdout, { header: false, fields }).rows;
  }

  private async queryGpus(): Promise<readonly SmiRow[]> {
    const fields = () => GPU_QUERY_FIELDS.map((f) => (f === 'clocks_event_reasons.active' ? this.reasonsField : f));
    try {
      return await this.query(fields(), '--query-gpu', 'csv,noheader,nounits');
    } catch (err) {
      // Drivers before 535 only know the old name of the throttle mask.
      if (
        err instanceof ExecError &&
        this.reasonsField === 'clocks_event_reasons.active' &&
        err.output.includes('"clocks_event_reasons.active" is not a valid field')
      ) {
        this.reasonsField = 'clocks_throttle_reasons.active';
        return await this.query(fields(), '--query-gpu', 'csv,noheader,nounits');
      }
      throw err;
    }
  }

  async collect(now: Date = new Date()): Promise<GpuCollection> {
    let rows: readonly SmiRow[];
    try {
      rows = await this.queryGpus();
    } catch (err) {
      const message = err instanceof SmiParseError ? `nvidia-smi printed unexpected output: ${err.message}` : (err as Error).message;
      return { samples: [], error: message, warnings: [] };
    }
    const warnings: string[] = [];
    let remapped: readonly SmiRow[] = [];
    try {
      remapped = await this.query(REMAPPED_ROWS_QUERY_FIELDS, '--query-remapped-rows', 'csv,noheader');
    } catch (err) {
      warnings.push(`row-remapping query failed, remapped_rows.* reported as null: ${(err as Error).message}`);
    }
    const { samples, problems } = toGpuSamples(rows, remapped, now, this.known);
    for (const s of samples) this.known.set(s.pciBusId, { uuid: s.uuid, index: s.index, name: s.name });
    if (rows.length > 0 && samples.length === 0)
      return { samples, error: `nvidia-smi output had no usable GPU rows: ${problems[0] ?? ''}`, warnings };
    return { samples, error: null, warnings: [...warnings, ...problems] };
  }

  /** Driver version from the query interface, CUDA version from the plain table header; null when unknown. */
  async versions(): Promise<{ driverVersion: string | null; cudaVersion: string | null; error: string | null }> {
    const [query, table] = await Promise.allSettled([
      runTool(this.binary, ['--query-gpu=driver_version', '--format=csv,noheader'], this.timeoutMs, 'nvidia-smi'),
      runTool(this.binary, [], this.timeoutMs, 'nvidia-smi'),
    ]);
    const tableText = table.status === 'fulfilled' ? table.value.stdout : '';
    const driverVersion =
      (query.status === 'fulfilled' ? version(smiText(query.value.stdout.split('\n')[0])) : null) ??
      version(/Driver Version:\s*([0-9][0-9.]*)/.exec(tableText)?.[1]);
    const cudaVersion = version(/CUDA Version:\s*([0-9][0-9.]*)/.exec(tableText)?.[1]);
    const failure = [query, table].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { driverVersion, cudaVersion, error: failure ? (failure.reason as Error).message : null };
  }
}

function version(raw: string | null | undefined): string | null {
  if (!raw) return null;
  return ZAgentVersionString.safeParse(raw.trim()).success ? raw.trim() : null;
}
