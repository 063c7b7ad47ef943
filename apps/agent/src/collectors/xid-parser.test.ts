import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGpuAtLine, parseKernelLogText, parseKernelTimestamp, parseXidLine } from './xid-parser';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url);

interface ExpectedXid {
  fixture: string;
  xid_event_count: number;
  xid_numbers: number[];
  events: Array<{ line: number; pci_as_printed: string; pci_bdf: string; xid: number; pid: number | null; process_name: string | null; message: string }>;
}

describe.each(['xid_dmesg_iso_13_43', 'xid_dmesg_ctime_119_gsp'])('fixture %s', (name) => {
  const expected = JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as ExpectedXid;
  const text = readFileSync(fixture(`${name}.log.txt`), 'utf8');
  const events = parseKernelLogText(text);

  it('finds exactly the Xid lines (continuations, stack traces and other NVRM lines are not events)', () => {
    expect(events).toHaveLength(expected.xid_event_count);
    expect([...new Set(events.map((e) => e.xid))].sort((a, b) => a - b)).toEqual(expected.xid_numbers);
  });

  it('extracts every expected key of every event', () => {
    expect(events.map((e) => ({ line: e.line, pci_as_printed: e.pciAsPrinted, pci_bdf: e.pciBdf, xid: e.xid, pid: e.pid, process_name: e.processName, message: e.message }))).toEqual(expected.events);
  });

  it('normalises the PCI id and keeps the raw line', () => {
    const lines = text.split('\n');
    for (const e of events) {
      expect(e.pciBusId).toMatch(/^0{8}:[0-9A-F]{2}:00\.0$/);
      expect(e.rawLine).toBe(lines[e.line - 1]);
      expect(e.timestamp).toBeInstanceOf(Date);
    }
  });
});

describe('timestamps', () => {
  it('reads dmesg --time-format iso (comma fraction, offset)', () => {
    const e = parseXidLine("kern  :warn  : 2025-01-21T04:41:44,283302+00:00 NVRM: Xid (PCI:0000:38:00): 13, pid='<unknown>', name=<unknown>, x")!;
    expect(e.timestamp!.toISOString()).toBe('2025-01-21T04:41:44.283Z');
    expect(parseKernelTimestamp('2025-01-21T06:41:44.5+0200 host kernel: ')!.toISOString()).toBe('2025-01-21T04:41:44.500Z');
  });

  it('reads dmesg -T ctime prefixes as local time', () => {
    const e = parseXidLine('[Sun Feb 23 16:24:18 2025] NVRM: Xid (PCI:0000:9b:00): 119, pid=1, name=x, y')!;
    expect(e.timestamp!.getTime()).toBe(new Date(2025, 1, 23, 16, 24, 18).getTime());
  });

  it('reads syslog prefixes without a year, never in the future', () => {
    const now = new Date(2026, 0, 2, 12, 0, 0);
    expect(parseKernelTimestamp('Jan  2 11:59:00 gpu-1 kernel: [ 5.1] ', { now, uptimeSeconds: 100 })!.getTime()).toBe(new Date(2026, 0, 2, 11, 59, 0).getTime());
    expect(parseKernelTimestamp('Dec 31 23:00:00 gpu-1 kernel: ', { now, uptimeSeconds: 100 })!.getFullYear()).toBe(2025);
  });

  it('turns boot-relative stamps into wall time when the uptime is known', () => {
    const clock = { now: new Date('2026-01-01T00:10:00Z'), uptimeSeconds: 600 };
    expect(parseKernelTimestamp('[  120.500000] ', clock)!.toISOString()).toBe('2026-01-01T00:02:00.500Z');
    expect(parseKernelTimestamp('4,1234,120500000,-;', clock)!.toISOString()).toBe('2026-01-01T00:02:00.500Z');
    expect(parseKernelTimestamp('[  120.500000] ')).toBeNull();
    expect(parseKernelTimestamp('no stamp here ')).toBeNull();
  });
});

describe('line shapes', () => {
  it('handles the documented format with pid and name', () => {
    expect(parseXidLine('NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.')).toMatchObject({
      pciBusId: '00000000:3B:00.0',
      xid: 79,
      pid: 1234,
      processName: 'python3',
      message: 'GPU has fallen off the bus.',
      timestamp: null,
    });
  });

  it('handles old drivers without pid/name', () => {
    expect(parseXidLine('[  12.3] NVRM: Xid (PCI:0000:01:00): 32, Channel ID 00000009 intr 00800000')).toMatchObject({
      xid: 32,
      pid: null,
      processName: null,
      message: 'Channel ID 00000009 intr 00800000',
    });
  });

  it('handles unquoted <unknown> and a missing message', () => {
    expect(parseXidLine('NVRM: Xid (PCI:0000:3b:00): 48, pid=<unknown>, name=<unknown>')).toMatchObject({ pid: null, processName: null, message: '' });
  });

  it('ignores other NVRM lines and NVSwitch SXid lines', () => {
    expect(parseXidLine('NVRM: GPU at PCI:0000:9b:00: GPU-509665ad-b600-ac93-3616-d754b23d0000')).toBeNull();
    expect(parseXidLine('nvidia-nvswitch3: SXid (PCI:0000:05:00.0): 11001, Non-fatal, Link 12')).toBeNull();
    expect(parseXidLine('NVRM: Rate limiting GSP RPC error prints for GPU at PCI:0000:9b:00 (printing 1 of every 30).')).toBeNull();
  });

  it('learns GPU UUIDs from "GPU at" lines', () => {
    expect(parseGpuAtLine('[Sun Feb 23 16:24:18 2025] NVRM: GPU at PCI:0000:9b:00: GPU-509665ad-b600-ac93-3616-d754b23d0000')).toEqual({
      pciBusId: '00000000:9B:00.0',
      uuid: 'GPU-509665ad-b600-ac93-3616-d754b23d0000',
    });
  });

  it('bounds message and raw line lengths', () => {
    const e = parseXidLine(`NVRM: Xid (PCI:0000:3b:00): 13, pid=1, name=x, ${'y'.repeat(5000)}`)!;
    expect(e.message.length).toBe(1024);
    expect(e.rawLine.length).toBe(2048);
  });
});
