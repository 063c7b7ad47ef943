import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
} from './nvidia-smi-csv';

const dir = new URL('../../test/fixtures/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => /^smi_.*\.csv$/.test(f));

type Conv = (raw: string | undefined) => unknown;
// expected.json key -> (field, converter). The README defines the conventions.
const KEYS: Record<string, [string, Conv]> = {
  index: ['index', smiInt],
  uuid: ['uuid', smiText],
  name: ['name', smiText],
  driver_version: ['driver_version', smiText],
  pci_bus_id: ['pci.bus_id', smiText],
  pstate: ['pstate', smiText],
  compute_cap: ['compute_cap', smiText],
  mig_mode_current: ['mig.mode.current', smiText],
  memory_total_mib: ['memory.total', smiInt],
  memory_used_mib: ['memory.used', smiInt],
  memory_free_mib: ['memory.free', smiInt],
  utilization_gpu_pct: ['utilization.gpu', smiInt],
  utilization_memory_pct: ['utilization.memory', smiInt],
  utilization_encoder_pct: ['utilization.encoder', smiInt],
  utilization_decoder_pct: ['utilization.decoder', smiInt],
  temperature_gpu_c: ['temperature.gpu', smiInt],
  power_draw_w: ['power.draw', smiFloat],
  power_limit_w: ['power.limit', smiFloat],
  fan_speed_pct: ['fan.speed', smiInt],
  clocks_max_sm_mhz: ['clocks.max.sm', smiInt],
  remapped_rows_correctable: ['remapped_rows.correctable', smiInt],
  remapped_rows_uncorrectable: ['remapped_rows.uncorrectable', smiInt],
  remapped_rows_pending: ['remapped_rows.pending', smiText],
  remapped_rows_failure: ['remapped_rows.failure', smiText],
  clocks_event_reasons_active: ['clocks_event_reasons.active', smiText],
  clocks_event_reasons_active_int: ['clocks_event_reasons.active', smiHex],
  clocks_event_reasons_supported: ['clocks_event_reasons.supported', smiText],
  clocks_event_reasons_supported_int: ['clocks_event_reasons.supported', smiHex],
};

describe.each(fixtures)('fixture %s', (file) => {
  const lines = readFileSync(new URL(file, dir), 'utf8').split('\n');
  const expected = JSON.parse(readFileSync(new URL(file.replace(/\.csv$/, '.expected.json'), dir), 'utf8')) as {
    query_fields_count: number;
    header: boolean;
    units: boolean;
    row_count: number;
    rows: Array<Record<string, unknown> & { bracketed?: Record<string, string> }>;
  };
  const query = lines[0]!.replace(/^# query: /, '').split(',');
  const output = lines.slice(2).join('\n');
  const table = parseSmiCsv(output, { header: expected.header, fields: query });

  it('maps every column by header name', () => {
    expect(expected.header).toBe(true);
    expect(expected.units).toBe(true);
    expect(query).toHaveLength(expected.query_fields_count);
    expect(table.fields).toEqual(query.map(canonicalSmiField));
    expect(table.rows).toHaveLength(expected.row_count);
  });

  it('extracts every key listed in expected.json', () => {
    for (const [i, want] of expected.rows.entries()) {
      const row = table.rows[i]!;
      const keys = Object.keys(want).filter((k) => k !== 'bracketed');
      for (const key of keys) {
        const spec = KEYS[key];
        expect(spec, `no mapping for expected key ${key}`).toBeDefined();
        expect(row.has(spec![0]), `${key}: column ${spec![0]} missing`).toBe(true);
        expect(spec![1](row.get(spec![0])), key).toEqual(want[key]);
      }
      for (const [field, text] of Object.entries(want.bracketed ?? {})) {
        expect(row.get(canonicalSmiField(field)), field).toBe(text);
        expect(smiText(row.get(canonicalSmiField(field))), field).toBeNull();
      }
    }
  });
});

describe('parseSmiCsv', () => {
  it('maps noheader output by the query list and strips nothing it should not', () => {
    const t = parseSmiCsv('0, GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b, NVIDIA H100 80GB HBM3, [Not Supported], 0x0000000000000028\n', {
      header: false,
      fields: ['index', 'gpu_uuid', 'gpu_name', 'power.draw', 'clocks_throttle_reasons.active'],
    });
    const row = t.rows[0]!;
    expect(row.get('uuid')).toBe('GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b');
    expect(row.get('name')).toBe('NVIDIA H100 80GB HBM3');
    expect(smiFloat(row.get('power.draw'))).toBeNull();
    expect(smiHex(row.get('clocks_event_reasons.active'))).toBe(0x28);
  });

  it('rejects garbage and mismatched columns with a clear error', () => {
    expect(() => parseSmiCsv('a, b, c\nd\n', { header: false, fields: ['x', 'y', 'z'] })).toThrow(SmiParseError);
    expect(() => parseSmiCsv('0, 1\n', { header: false, fields: ['index'] })).toThrow(/2 columns, expected 1/);
    expect(() => parseSmiCsv('index, uuid\n0, x\n', { header: true, fields: ['index', 'name'] })).toThrow(/do not match/);
  });
});

describe('value conversion', () => {
  it.each([
    '[N/A]',
    '[Not Supported]',
    '[Unknown Error]',
    '[GPU requires reset]',
    '[Requested functionality has been deprecated]',
    'N/A',
    '',
  ])('%j is null, never 0', (raw) => {
    expect(smiText(raw)).toBeNull();
    expect(smiInt(raw)).toBeNull();
    expect(smiFloat(raw)).toBeNull();
    expect(smiHex(raw)).toBeNull();
    expect(smiBool(raw)).toBeNull();
  });

  it('tells error markers from "not reported" markers', () => {
    for (const raw of ['[N/A]', '[Not Supported]', '[Requested functionality has been deprecated]', 'N/A', '', '61', ' [n/a] '])
      expect(smiErrorMarker(raw), raw).toBeNull();
    for (const raw of ['[GPU requires reset]', '[Unknown Error]', '[GPU is lost]', '[Insufficient Permissions]'])
      expect(smiErrorMarker(raw)).toBe(raw);
    expect(smiErrorMarker(' [Unknown Error] ')).toBe('[Unknown Error]');
  });

  it('converts numbers, masks and booleans', () => {
    expect(smiInt('81559')).toBe(81559);
    expect(smiInt('12.5')).toBeNull();
    expect(smiFloat('433.78')).toBe(433.78);
    expect(smiHex('0x00000000000001FF')).toBe(511);
    expect(smiHex('0xFFFFFFFFFFFFFFFF')).toBeNull();
    expect([smiBool('Yes'), smiBool('No'), smiBool('1'), smiBool('0'), smiBool('maybe')]).toEqual([true, false, true, false, null]);
  });
});
