import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MONTH_NAMES,
  monthIndex,
  parseFallenOffBusLine,
  parseGpuAtLine,
  parseKernelLogEvents,
  parseKernelLogText,
  parseKernelTimestamp,
  parseXidLine,
} from './xid-parser';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url);

interface ExpectedXid {
  fixture: string;
  xid_event_count: number;
  xid_numbers: number[];
  events: Array<{
    line: number;
    pci_as_printed: string;
    pci_bdf: string;
    xid: number;
    pid: number | null;
    process_name: string | null;
    message: string;
  }>;
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
    expect(
      events.map((e) => ({
        line: e.line,
        pci_as_printed: e.pciAsPrinted,
        pci_bdf: e.pciBdf,
        xid: e.xid,
        pid: e.pid,
        process_name: e.processName,
        message: e.message,
      })),
    ).toEqual(expected.events);
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
    const e = parseXidLine(
      "kern  :warn  : 2025-01-21T04:41:44,283302+00:00 NVRM: Xid (PCI:0000:38:00): 13, pid='<unknown>', name=<unknown>, x",
    )!;
    expect(e.timestamp!.toISOString()).toBe('2025-01-21T04:41:44.283Z');
    expect(parseKernelTimestamp('2025-01-21T06:41:44.5+0200 host kernel: ')!.toISOString()).toBe('2025-01-21T04:41:44.500Z');
  });

  it('reads dmesg -T ctime prefixes as local time', () => {
    const e = parseXidLine('[Sun Feb 23 16:24:18 2025] NVRM: Xid (PCI:0000:9b:00): 119, pid=1, name=x, y')!;
    expect(e.timestamp!.getTime()).toBe(new Date(2025, 1, 23, 16, 24, 18).getTime());
  });

  it('reads syslog prefixes without a year, never in the future', () => {
    const now = new Date(2026, 0, 2, 12, 0, 0);
    expect(parseKernelTimestamp('Jan  2 11:59:00 gpu-1 kernel: [ 5.1] ', { now, uptimeSeconds: 100 })!.getTime()).toBe(
      new Date(2026, 0, 2, 11, 59, 0).getTime(),
    );
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
    expect(parseXidLine('NVRM: Xid (PCI:0000:3b:00): 48, pid=<unknown>, name=<unknown>')).toMatchObject({
      pid: null,
      processName: null,
      message: '',
    });
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

describe('MIG attribution', () => {
  it('parses an Xid that names a GPU instance, keeping the instance', () => {
    expect(
      parseXidLine('NVRM: Xid (PCI:0000:01:00 GPU-I:05): 94, pid=7194, Contained: CE User Channel (0x9). RST: No, D-RST: No'),
    ).toMatchObject({
      kind: 'xid',
      pciAsPrinted: 'PCI:0000:01:00',
      pciBusId: '00000000:01:00.0',
      xid: 94,
      gpuInstanceId: 5,
      pid: 7194,
      message: 'Contained: CE User Channel (0x9). RST: No, D-RST: No',
    });
  });

  it('parses the instance when a compute instance follows it', () => {
    expect(
      parseXidLine('[Mon Mar  3 10:00:00 2025] NVRM: Xid (PCI:0000:3b:00 GPU-I:01 GPU-CI:02): 13, pid=9, name=a, Graphics Exception'),
    ).toMatchObject({ xid: 13, gpuInstanceId: 1, pciBusId: '00000000:3B:00.0', processName: 'a' });
  });

  it('has no instance on a plain line', () => {
    expect(
      parseXidLine('NVRM: Xid (PCI:0000:01:00): 94, pid=7062, Contained: CE User Channel (0x9). RST: No, D-RST: No')!.gpuInstanceId,
    ).toBeNull();
  });
});

describe('GPU has fallen off the bus without an Xid line', () => {
  it('turns the one-line message into an event for that GPU', () => {
    const [event, ...rest] = parseKernelLogEvents('[Tue Dec  1 03:14:07 2026] NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.\n');
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      kind: 'fallen_off_bus',
      xid: 79,
      pciBusId: '00000000:3B:00.0',
      pid: null,
      message: 'GPU 0000:3b:00.0: GPU has fallen off the bus.',
      line: 1,
    });
    expect(event!.timestamp!.getTime()).toBe(new Date(2026, 11, 1, 3, 14, 7).getTime());
  });

  it('takes the GPU from the "GPU at" line of a report spread over several lines', () => {
    const log = [
      '[  812.000001] NVRM: GPU at PCI:0000:3b:00: GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      '[  812.000002] NVRM: GPU Board Serial Number: 1652823051234',
      '[  812.000003] NVRM: GPU has fallen off the bus.',
    ].join('\n');
    const events = parseKernelLogEvents(log, { now: new Date('2026-01-01T01:00:00Z'), uptimeSeconds: 3600 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'fallen_off_bus', xid: 79, pciBusId: '00000000:3B:00.0', line: 3 });
  });

  it('leaves the Xid 79 line to the Xid parser and still reports a separate fallen-off message', () => {
    const log = [
      'NVRM: GPU at PCI:0000:3b:00: GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      'NVRM: GPU Board Serial Number: 1652823051234',
      'NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.',
      'NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.',
    ].join('\n');
    expect(parseKernelLogEvents(log).map((e) => [e.kind, e.xid, e.pciBusId])).toEqual([
      ['xid', 79, '00000000:3B:00.0'],
      ['fallen_off_bus', 79, '00000000:3B:00.0'],
    ]);
    expect(parseKernelLogText(log).map((e) => e.kind)).toEqual(['xid']);
  });

  it('ignores a fallen-off message that names no GPU and follows no "GPU at" line', () => {
    expect(parseKernelLogEvents('NVRM: something has fallen off the bus\n')).toEqual([]);
    expect(parseFallenOffBusLine('NVRM: loading NVIDIA UNIX x86_64 Kernel Module')).toBeNull();
  });
});

describe('timestamps in other locales', () => {
  const clock = { now: new Date(2026, 11, 2, 16, 0, 0), uptimeSeconds: 100 };
  it.each([
    ['German journalctl', 'Dez 02 15:44:11 gpu-node-01 kernel: '],
    ['French journalctl', 'déc. 02 15:44:11 gpu-node-01 kernel: '],
    ['Spanish syslog', 'dic  2 15:44:11 gpu-node-01 kernel: '],
    ['Italian syslog', 'dic  2 15:44:11 gpu-node-01 kernel: '],
    ['Portuguese syslog', 'dez  2 15:44:11 gpu-node-01 kernel: '],
    ['Dutch syslog', 'dec  2 15:44:11 gpu-node-01 kernel: '],
    ['Russian journalctl', 'дек 02 15:44:11 gpu-node-01 kernel: '],
    ['German dmesg -T', '[Mi Dez  2 15:44:11 2026] '],
    ['French dmesg -T', '[mer. déc.  2 15:44:11 2026] '],
  ])('%s', (_what, prefix) => {
    expect(parseKernelTimestamp(prefix, clock)!.getTime()).toBe(new Date(2026, 11, 2, 15, 44, 11).getTime());
  });

  it('reads French and German month names with accents and dots', () => {
    expect([monthIndex('févr.'), monthIndex('Mär'), monthIndex('août'), monthIndex('MRZ'), monthIndex('Okt'), monthIndex('juil.')]).toEqual(
      [1, 2, 7, 2, 9, 6],
    );
  });

  it('no month name means two different months', () => {
    const seen = new Map<string, number>();
    MONTH_NAMES.forEach((names, month) => {
      for (const name of names) {
        expect(seen.get(name) ?? month, name).toBe(month);
        seen.set(name, month);
      }
    });
  });

  it('leaves a line undated, never stamped with the read time, when the month is unknown or there is no stamp', () => {
    expect(parseKernelTimestamp('12月 02 15:44:11 gpu-node-01 kernel: ', clock)).toBeNull();
    expect(
      parseXidLine('Foo 02 15:44:11 gpu-node-01 kernel: NVRM: Xid (PCI:0000:3b:00): 13, pid=1, name=x, y', clock)!.timestamp,
    ).toBeNull();
    expect(parseXidLine('NVRM: Xid (PCI:0000:3b:00): 13, pid=1, name=x, y', clock)!.timestamp).toBeNull();
  });
});
