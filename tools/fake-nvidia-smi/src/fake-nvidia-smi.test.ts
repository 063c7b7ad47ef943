import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFakeNvidiaSmi } from './cli.mjs';
import { FAKE_NVIDIA_SMI_BIN, fakeH100, fakeNvidiaSmiEnv, writeFakeNvidiaSmiConfig, type TFakeNvidiaSmiConfig } from './index';

const execFileAsync = promisify(execFile);
const AGENT_QUERY =
  'index,uuid,name,pci.bus_id,memory.total,memory.used,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.current.sm,ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total,clocks_event_reasons.active';
const REMAP_QUERY = 'gpu_bus_id,gpu_uuid,remapped_rows.correctable,remapped_rows.uncorrectable,remapped_rows.pending,remapped_rows.failure';
const NOW = Date.parse('2026-03-01T12:00:00Z');

let dir: string;
let configPath: string;
let kernelLog: string;
const config: TFakeNvidiaSmiConfig = {
  node: 'gpu-node-07',
  driverVersion: '550.54.15',
  cudaVersion: '12.4',
  gpus: [
    { ...fakeH100('gpu-node-07', 0, 'busy'), pciBusId: '0000:18:00' },
    fakeH100('gpu-node-07', 1, 'throttled'),
    fakeH100('gpu-node-07', 2, 'ecc-error'),
    fakeH100('gpu-node-07', 3, 'xid'),
    fakeH100('gpu-node-07', 4, 'hot'),
    fakeH100('gpu-node-07', 5, 'mig'),
    fakeH100('gpu-node-07', 6, 'idle'),
  ],
};

function run(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = runFakeNvidiaSmi(
    args,
    { ...fakeNvidiaSmiEnv(configPath, { now: new Date(NOW) }), ...env },
    { out: (s) => (out += s), err: (s) => (err += s) },
  );
  return { code, out, err };
}

const rows = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .map((l) => l.split(', '));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-smi-test-'));
  configPath = join(dir, 'config.json');
  kernelLog = join(dir, 'kern.log');
  writeFakeNvidiaSmiConfig(configPath, { ...config, kernelLogPath: kernelLog, stateDir: join(dir, 'state'), xidIntervalSeconds: 30 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('query output', () => {
  it("answers the agent's exact query: one ', '-joined line per GPU, normalised bus ids, no units", () => {
    const { code, out } = run([`--query-gpu=${AGENT_QUERY}`, '--format=csv,noheader,nounits']);
    expect(code).toBe(0);
    const lines = rows(out);
    expect(lines).toHaveLength(7);
    for (const [i, cells] of lines.entries()) {
      expect(cells).toHaveLength(15);
      expect(cells[0]).toBe(String(i));
      expect(cells[1]).toMatch(/^GPU-[0-9a-f-]{36}$/);
      expect(cells[3]).toMatch(/^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.0$/);
      expect(cells[14]).toMatch(/^0x[0-9A-F]{16}$/);
      expect(cells[9]).toMatch(/^\d+\.\d\d$/);
    }
    expect(lines[0]![3]).toBe('00000000:18:00.0');
  });

  it('prints headers with [unit] and values with units unless nounits', () => {
    const { out } = run(['--query-gpu', 'memory.used,power.draw,utilization.gpu,temperature.gpu,clocks.sm', '--format', 'csv']);
    const [header, first] = rows(out);
    expect(header).toEqual(['memory.used [MiB]', 'power.draw [W]', 'utilization.gpu [%]', 'temperature.gpu', 'clocks.sm [MHz]']);
    expect(first![0]).toMatch(/^\d+ MiB$/);
    expect(first![1]).toMatch(/^\d+\.\d\d W$/);
    expect(first![2]).toMatch(/^\d+ %$/);
    expect(first![4]).toMatch(/^\d+ MHz$/);
  });

  it('shows fault profiles the way a driver reports them', () => {
    const lines = rows(run([`--query-gpu=${AGENT_QUERY}`, '--format=csv,noheader,nounits']).out);
    const mask = (i: number) => parseInt(lines[i]![14]!, 16);
    expect(mask(1) & 0x20).toBe(0x20); // SwThermalSlowdown
    expect(mask(1) & 0x8).toBe(0x8); // HwSlowdown
    expect(Number(lines[2]![13])).toBeGreaterThan(0); // uncorrected volatile ECC
    expect(Number(lines[4]![8])).toBeGreaterThan(88); // hot
    expect(lines[5]![6]).toBe('[N/A]'); // MIG utilisation
    expect(lines[5]![7]).toBe('[N/A]');
    expect(mask(6)).toBe(0x1); // idle
    const remap = rows(run([`--query-remapped-rows=${REMAP_QUERY}`, '--format=csv,noheader']).out);
    expect(remap[2]).toEqual([expect.any(String), lines[2]![1], '1', '1', '1', '0']);
    expect(remap[0]!.slice(2)).toEqual(['0', '0', '0', '0']);
    expect(remap[5]!.slice(2)).toEqual(['[N/A]', '[N/A]', '[N/A]', '[N/A]']);
  });

  it('accepts the old clocks_throttle_reasons names and aliases', () => {
    const { code, out } = run([
      '--query-gpu=gpu_uuid,gpu_bus_id,clocks_throttle_reasons.active,clocks_throttle_reasons.sw_thermal_slowdown',
      '--format=csv,noheader',
    ]);
    expect(code).toBe(0);
    expect(rows(out)[1]!.slice(2)).toEqual(['0x0000000000000028', 'Active']);
  });

  it('varies over time', () => {
    const a = run([`--query-gpu=utilization.gpu,power.draw`, '--format=csv,noheader,nounits'], { FAKE_NVIDIA_SMI_NOW: String(NOW) }).out;
    const b = run([`--query-gpu=utilization.gpu,power.draw`, '--format=csv,noheader,nounits'], {
      FAKE_NVIDIA_SMI_NOW: String(NOW + 45_000),
    }).out;
    expect(a).not.toBe(b);
  });

  it('prints the plain table with driver and CUDA versions', () => {
    const { code, out } = run([]);
    expect(code).toBe(0);
    expect(out).toMatch(/Driver Version: 550\.54\.15\s+CUDA Version: 12\.4/);
    expect(out).toContain('00000000:18:00.0');
    expect(run(['-L']).out.split('\n')[0]).toMatch(/^GPU 0: NVIDIA H100 80GB HBM3 \(UUID: GPU-/);
  });
});

describe('errors', () => {
  it('refuses an unknown field the way nvidia-smi does', () => {
    const { code, out } = run(['--query-gpu=index,bogus.field', '--format=csv']);
    expect(code).toBe(2);
    expect(out).toContain('Field "bogus.field" is not a valid field to query.');
  });

  it('requires --format and rejects unknown arguments', () => {
    expect(run(['--query-gpu=index']).code).toBe(2);
    expect(run(['--query-gpu=index', '--format=json']).code).toBe(2);
    expect(run(['--frobnicate']).out).toContain('Invalid combination of input arguments');
  });

  it.each([
    ['missing', 9, "couldn't communicate with the NVIDIA driver"],
    ['exit', 18, 'Driver/library version mismatch'],
    ['garbage', 0, 'segfault'],
  ])('FAKE_NVIDIA_SMI_FAIL=%s', (mode, code, text) => {
    const result = run([`--query-gpu=${AGENT_QUERY}`, '--format=csv,noheader,nounits'], { FAKE_NVIDIA_SMI_FAIL: mode });
    expect(result.code).toBe(code);
    expect(result.out).toContain(text);
  });

  it('explains a missing or invalid config', () => {
    let err = '';
    expect(runFakeNvidiaSmi(['-L'], {}, { out: () => {}, err: (s) => (err += s) })).toBe(9);
    expect(err).toContain('FAKE_NVIDIA_SMI_CONFIG');
    err = '';
    expect(runFakeNvidiaSmi(['-L'], { FAKE_NVIDIA_SMI_CONFIG: join(dir, 'nope.json') }, { out: () => {}, err: (s) => (err += s) })).toBe(9);
    expect(err).toContain('cannot read');
  });

  it('validates configs before writing them', () => {
    expect(() =>
      writeFakeNvidiaSmiConfig(join(dir, 'bad.json'), { ...config, gpus: [{ ...config.gpus[0]!, pciBusId: 'slot 3' }] }),
    ).toThrow(/PCI bus id/);
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });
});

describe('kernel log (xid profile)', () => {
  it('appends real-format Xid lines once per window', () => {
    const T = NOW + 600_000; // a window no other test has touched
    const size = () => (existsSync(kernelLog) ? readFileSync(kernelLog, 'utf8').length : 0);
    const before = size();
    run(['-L'], { FAKE_NVIDIA_SMI_NOW: String(T) });
    const afterFirst = size();
    run(['-L'], { FAKE_NVIDIA_SMI_NOW: String(T + 1000) });
    expect(size()).toBe(afterFirst); // same window: nothing new
    const first = readFileSync(kernelLog, 'utf8').slice(before);
    const xids = first.split('\n').filter((l) => l.includes('NVRM: Xid ('));
    expect(xids.length).toBeGreaterThan(0);
    const pci = `PCI:0000:${fakeH100('gpu-node-07', 3).pciBusId.slice(9, 11).toLowerCase()}:00`;
    for (const line of xids) {
      expect(line).toMatch(
        /^kern {2}:warn {2}: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{6}\+00:00 NVRM: Xid \(PCI:[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\): (\d+), /,
      );
      expect(line).toContain(pci);
    }
    run(['-L'], { FAKE_NVIDIA_SMI_NOW: String(T + 31_000) });
    const all = readFileSync(kernelLog, 'utf8').slice(before);
    const numbers = new Set([...all.matchAll(/NVRM: Xid \([^)]+\): (\d+),/g)].map((m) => m[1]));
    expect(numbers).toEqual(new Set(['13', '79']));
  });
});

describe('kernel log under concurrent calls', () => {
  it('writes one burst per window even when several nvidia-smi calls race', async () => {
    const T = NOW + 3_600_000;
    const before = readFileSync(kernelLog, 'utf8').length;
    const env = { ...process.env, ...fakeNvidiaSmiEnv(configPath), FAKE_NVIDIA_SMI_NOW: String(T) };
    await Promise.all(Array.from({ length: 5 }, () => execFileAsync(FAKE_NVIDIA_SMI_BIN, ['-L'], { env })));
    const added = readFileSync(kernelLog, 'utf8').slice(before).trimEnd().split('\n');
    expect(added).toHaveLength(3);
  });
});

describe('the executable', () => {
  it('runs with plain node and is killed cleanly when it hangs', async () => {
    const env = { ...process.env, ...fakeNvidiaSmiEnv(configPath) };
    const { stdout } = await execFileAsync(FAKE_NVIDIA_SMI_BIN, [`--query-gpu=${AGENT_QUERY}`, '--format=csv,noheader,nounits'], { env });
    expect(stdout.trimEnd().split('\n')).toHaveLength(7);
    await expect(execFileAsync(FAKE_NVIDIA_SMI_BIN, ['--query-gpu=nope', '--format=csv'], { env })).rejects.toMatchObject({ code: 2 });
    const hang = execFileAsync(FAKE_NVIDIA_SMI_BIN, ['-L'], {
      env: { ...env, FAKE_NVIDIA_SMI_FAIL: 'hang' },
      timeout: 400,
      killSignal: 'SIGKILL',
    });
    await expect(hang).rejects.toMatchObject({ killed: true, signal: 'SIGKILL' });
  });
});

describe('reset-required profile', () => {
  it('prints [GPU requires reset] for every reading while identity and PCI fields still answer', () => {
    const own = join(dir, 'reset.json');
    writeFakeNvidiaSmiConfig(own, { ...config, gpus: [fakeH100('gpu-node-07', 0, 'busy'), fakeH100('gpu-node-07', 1, 'reset-required')] });
    const env = fakeNvidiaSmiEnv(own, { now: new Date(NOW) });
    let out = '';
    expect(
      runFakeNvidiaSmi([`--query-gpu=${AGENT_QUERY}`, '--format=csv,noheader,nounits'], env, {
        out: (s) => (out += s),
        err: () => undefined,
      }),
    ).toBe(0);
    const [healthy, reset] = rows(out);
    expect(healthy!.some((c) => c.startsWith('['))).toBe(false);
    expect(reset!.slice(0, 4)).toEqual(['1', expect.stringMatching(/^GPU-/), 'NVIDIA H100 80GB HBM3', expect.stringMatching(/^0{8}:/)]);
    expect(reset!.slice(4)).toEqual(Array(11).fill('[GPU requires reset]'));
    out = '';
    runFakeNvidiaSmi([`--query-remapped-rows=${REMAP_QUERY}`, '--format=csv,noheader'], env, {
      out: (s) => (out += s),
      err: () => undefined,
    });
    expect(rows(out)[1]!.slice(2)).toEqual(Array(4).fill('[GPU requires reset]'));
  });
});
