import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZGpuSample } from '@fleetplane/contracts';
import { GPU_QUERY_FIELDS, NvidiaSmiCollector, toGpuSamples } from './nvidia-smi';
import { parseSmiCsv } from './nvidia-smi-csv';

// The stand-in executable from tools/ (referenced by path: the agent must not import tool code).
const FAKE = new URL('../../../../tools/fake-nvidia-smi/bin/nvidia-smi', import.meta.url).pathname;
const UUIDS = [
  'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5c',
  'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5d',
  'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5e',
];

let dir: string;
const savedEnv = { ...process.env };
const gpu = (i: number, profile: string) => ({
  uuid: UUIDS[i],
  name: 'NVIDIA H100 80GB HBM3',
  memoryTotalMib: 81559,
  pciBusId: `0000:${['18', '3b', '5d', '9b'][i]}:00`,
  powerLimitW: 700,
  profile,
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smi-collector-'));
  const config = join(dir, 'fake.json');
  writeFileSync(
    config,
    JSON.stringify({
      node: 'gpu-node-01',
      driverVersion: '550.54.15',
      cudaVersion: '12.4',
      gpus: [gpu(0, 'busy'), gpu(1, 'ecc-error'), gpu(2, 'mig'), gpu(3, 'throttled')],
    }),
  );
  process.env.FAKE_NVIDIA_SMI_CONFIG = config;
  // A pre-535 driver: refuses the new throttle-mask name, answers to the old one.
  const old = join(dir, 'old-nvidia-smi');
  writeFileSync(
    old,
    `#!/bin/sh\ncase "$*" in *clocks_event_reasons.active*) echo 'Field "clocks_event_reasons.active" is not a valid field to query.'; echo; exit 2;; esac\nexec "${FAKE}" "$@"\n`,
  );
  chmodSync(old, 0o755);
});
afterAll(() => {
  process.env = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});

describe('NvidiaSmiCollector against the stand-in nvidia-smi', () => {
  it('maps every GPU by column name into valid contract samples', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const { samples, error } = await new NvidiaSmiCollector(FAKE).collect(now);
    expect(error).toBeNull();
    expect(samples.map((s) => s.uuid)).toEqual(UUIDS);
    for (const s of samples) expect(ZGpuSample.parse(s)).toEqual(s);
    const [busy, ecc, mig, throttled] = samples;
    expect(busy).toMatchObject({
      sampledAt: now.toISOString(),
      index: 0,
      pciBusId: '00000000:18:00.0',
      memoryTotalMib: 81559,
      powerLimitW: 700,
      remappedRowsPending: false,
    });
    expect(busy!.utilizationGpuPct).toBeGreaterThan(0);
    expect(ecc).toMatchObject({
      eccUncorrectedVolatile: 2,
      remappedRowsUncorrectable: 1,
      remappedRowsPending: true,
      remappedRowsFailure: false,
    });
    expect(mig).toMatchObject({
      utilizationGpuPct: null,
      utilizationMemoryPct: null,
      remappedRowsCorrectable: null,
      remappedRowsPending: null,
    });
    expect(mig!.memoryUsedMib).toBeGreaterThan(0);
    expect(throttled!.clocksEventReasons! & 0x28).toBe(0x28);
  });

  it('reads driver and CUDA versions', async () => {
    expect(await new NvidiaSmiCollector(FAKE).versions()).toEqual({ driverVersion: '550.54.15', cudaVersion: '12.4', error: null });
  });

  it('falls back to clocks_throttle_reasons.active on old drivers', async () => {
    const { samples, error } = await new NvidiaSmiCollector(join(dir, 'old-nvidia-smi')).collect();
    expect(error).toBeNull();
    expect(samples[3]!.clocksEventReasons! & 0x28).toBe(0x28);
  });

  it.each([
    ['missing', /exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/],
    ['exit', /exited with code 18: Failed to initialize NVML: Driver\/library version mismatch/],
    ['garbage', /nvidia-smi printed unexpected output/],
  ])('FAKE_NVIDIA_SMI_FAIL=%s gives no samples and a clear error', async (mode, message) => {
    process.env.FAKE_NVIDIA_SMI_FAIL = mode;
    try {
      const result = await new NvidiaSmiCollector(FAKE).collect();
      expect(result.samples).toEqual([]);
      expect(result.error).toMatch(message);
    } finally {
      delete process.env.FAKE_NVIDIA_SMI_FAIL;
    }
  });

  it('kills a hanging nvidia-smi at the timeout', async () => {
    process.env.FAKE_NVIDIA_SMI_FAIL = 'hang';
    try {
      const started = Date.now();
      const result = await new NvidiaSmiCollector(FAKE, 300).collect();
      expect(result.error).toBe('nvidia-smi did not answer within 0.3 s and was killed');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      delete process.env.FAKE_NVIDIA_SMI_FAIL;
    }
  });

  it('explains a missing binary', async () => {
    const result = await new NvidiaSmiCollector(join(dir, 'no-such-nvidia-smi')).collect();
    expect(result.error).toMatch(
      /^nvidia-smi not found at ".*no-such-nvidia-smi" \(is the NVIDIA driver installed\? point --nvidia-smi at it\)$/,
    );
  });
});

// The agent's own query, so the rows below are what nvidia-smi prints for it.
const row = (cells: string) => parseSmiCsv(cells, { header: false, fields: [...GPU_QUERY_FIELDS] }).rows;

describe('toGpuSamples', () => {
  it('nulls out-of-range readings instead of sinking the batch, and never turns [N/A] into 0', () => {
    const { samples, problems } = toGpuSamples(
      row(
        `0, ${UUIDS[0]}, NVIDIA H100 80GB HBM3, 00000000:18:00.0, 81559, [N/A], 250, 0, 61, [Unknown Error], 700.00, 1980, 0, 0, 0x0000000000000000\n`,
      ),
      [],
      new Date(),
    );
    expect(samples[0]).toMatchObject({
      utilizationGpuPct: null,
      utilizationMemoryPct: 0,
      memoryUsedMib: null,
      powerDrawW: null,
      remappedRowsPending: null,
    });
    expect(problems).toEqual([`GPU ${UUIDS[0]}: utilizationGpuPct=250 is out of range; reported as null`]);
  });

  it('skips rows without an identity and joins remapped rows by UUID or PCI id', () => {
    const remap = parseSmiCsv(`00000000:18:00.0, ${UUIDS[1]}, 3, 1, 1, 0\n`, {
      header: false,
      fields: [
        'gpu_bus_id',
        'gpu_uuid',
        'remapped_rows.correctable',
        'remapped_rows.uncorrectable',
        'remapped_rows.pending',
        'remapped_rows.failure',
      ],
    }).rows;
    const { samples, problems } = toGpuSamples(
      row(
        `0, [N/A], NVIDIA H100 80GB HBM3, 00000000:18:00.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0x0\n1, ${UUIDS[1]}, NVIDIA H100 80GB HBM3, 00000000:3B:00.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0x0\n`,
      ),
      remap,
      new Date(),
    );
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({
      uuid: UUIDS[1],
      remappedRowsCorrectable: 3,
      remappedRowsUncorrectable: 1,
      remappedRowsPending: true,
      remappedRowsFailure: false,
    });
    expect(problems[0]).toMatch(/skipped a GPU row/);
  });
});

describe('error markers (GPU in trouble vs. value not reported)', () => {
  const fixtures = new URL('../../test/fixtures/', import.meta.url);
  const wide = (file: string) => {
    const lines = readFileSync(new URL(file, fixtures), 'utf8').split('\n');
    return { query: lines[0]!.replace(/^# query: /, '').split(','), output: lines.slice(2).join('\n') };
  };

  it.each([
    'smi_h100_sxm_1gpu_wide_idle.csv',
    'smi_h100_mig_enabled_wide_load.csv',
    'smi_rtx4080super_wide_load.csv',
    'smi_rtx2080super_swpowercap_wide_idle.csv',
  ])('a healthy real capture (%s: [N/A], [Requested functionality has been deprecated]) carries no error state', (file) => {
    const { query, output } = wide(file);
    const { samples } = toGpuSamples(parseSmiCsv(output, { header: true, fields: query }).rows, [], new Date());
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.errorStates).toBeUndefined();
  });

  it('carries [GPU requires reset] from a real wide capture whose readings all turned into the marker', () => {
    // The real H100 capture as nvidia-smi prints it for a GPU that needs a reset: identity and PCI
    // fields still answer, every reading prints the marker instead of a value.
    const { query, output } = wide('smi_h100_sxm_1gpu_wide_idle.csv');
    const [header, row] = output.split('\n');
    const keep = new Set([
      'timestamp',
      'driver_version',
      'count',
      'name',
      'serial',
      'uuid',
      'index',
      'pci.bus_id',
      'pci.domain',
      'pci.bus',
      'pci.device',
      'pci.device_id',
      'pci.sub_device_id',
    ]);
    const cells = row!
      .split(', ')
      .map((cell, i) => (keep.has(query[i]!) || cell === '[N/A]' || cell.startsWith('[Requested') ? cell : '[GPU requires reset]'));
    const { samples } = toGpuSamples(parseSmiCsv(`${header}\n${cells.join(', ')}\n`, { header: true, fields: query }).rows, [], new Date());
    const [gpu] = samples;
    expect(gpu).toMatchObject({
      temperatureC: null,
      powerDrawW: null,
      memoryUsedMib: null,
      utilizationGpuPct: null,
      eccUncorrectedVolatile: null,
    });
    expect(gpu!.errorStates!.length).toBeGreaterThan(10);
    expect(new Set(gpu!.errorStates!.map((e) => e.marker))).toEqual(new Set(['[GPU requires reset]']));
    expect(gpu!.errorStates!.map((e) => e.field)).toEqual(expect.arrayContaining(['temperature.gpu', 'power.draw', 'memory.used']));
    expect(ZGpuSample.parse(gpu)).toEqual(gpu);
  });

  it.each(['[Unknown Error]', '[GPU is lost]', '[Insufficient Permissions]', '[GPU requires reset]'])(
    '%s in the agent query output is an error state, not just a null',
    (marker) => {
      const { samples } = toGpuSamples(
        row(
          `0, ${UUIDS[0]}, NVIDIA H100 80GB HBM3, 00000000:18:00.0, 81559, ${marker}, [N/A], [Not Supported], ${marker}, ${marker}, 700.00, 1980, 0, 0, 0x0000000000000000\n`,
        ),
        [],
        new Date(),
      );
      expect(samples[0]).toMatchObject({ memoryUsedMib: null, temperatureC: null, powerDrawW: null, utilizationGpuPct: null });
      expect(samples[0]!.errorStates).toEqual([
        { field: 'memory.used', marker },
        { field: 'temperature.gpu', marker },
        { field: 'power.draw', marker },
      ]);
    },
  );

  it('[N/A], [Not Supported] and a bare N/A stay plain nulls without an error state', () => {
    const { samples } = toGpuSamples(
      row(
        `0, ${UUIDS[0]}, NVIDIA H100 80GB HBM3, 00000000:18:00.0, 81559, [N/A], N/A, [Not Supported], 40, [N/A], 700.00, 1980, 0, 0, 0x0000000000000000\n`,
      ),
      [],
      new Date(),
    );
    expect(samples[0]!.errorStates).toBeUndefined();
  });

  it('keeps reporting a GPU whose identity fields print the marker, by the UUID learnt at its PCI slot', () => {
    const known = new Map([['00000000:18:00.0', { uuid: UUIDS[0]!, index: 0, name: 'NVIDIA H100 80GB HBM3' }]]);
    const m = '[GPU requires reset]';
    const { samples } = toGpuSamples(
      row(`${m}, ${m}, ${m}, 00000000:18:00.0, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}, ${m}\n`),
      [],
      new Date(),
      known,
    );
    expect(samples[0]).toMatchObject({ uuid: UUIDS[0], index: 0, name: 'NVIDIA H100 80GB HBM3', temperatureC: null });
    expect(samples[0]!.errorStates).toHaveLength(14);
  });
});

describe('NvidiaSmiCollector against a stand-in GPU that needs a reset', () => {
  it('reports the GPU with null readings and the driver marker per field', async () => {
    const config = join(dir, 'reset.json');
    writeFileSync(
      config,
      JSON.stringify({
        node: 'gpu-node-01',
        driverVersion: '550.54.15',
        cudaVersion: '12.4',
        gpus: [gpu(0, 'busy'), gpu(1, 'reset-required')],
      }),
    );
    const saved = process.env.FAKE_NVIDIA_SMI_CONFIG;
    process.env.FAKE_NVIDIA_SMI_CONFIG = config;
    try {
      const { samples, error } = await new NvidiaSmiCollector(FAKE).collect(new Date('2026-03-01T12:00:00Z'));
      expect(error).toBeNull();
      const [busy, reset] = samples;
      expect(busy!.errorStates).toBeUndefined();
      expect(reset).toMatchObject({ uuid: UUIDS[1], temperatureC: null, powerDrawW: null, memoryUsedMib: null, remappedRowsPending: null });
      expect(reset!.errorStates).toHaveLength(15); // 11 readings of the GPU query + 4 remapped-rows values
      expect(new Set(reset!.errorStates!.map((e) => e.marker))).toEqual(new Set(['[GPU requires reset]']));
    } finally {
      process.env.FAKE_NVIDIA_SMI_CONFIG = saved;
    }
  });
});
