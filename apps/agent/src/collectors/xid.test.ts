import { appendFileSync, accessSync, constants, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XidCollector } from './xid';

const UUID = 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const line = (xid: number, pci = '0000:3b:00', ts = '2026-01-01T00:00:00,000001+00:00') =>
  `kern  :warn  : ${ts} NVRM: Xid (PCI:${pci}): ${xid}, pid=42, name=python3, msg ${xid}\n`;
const noise = 'kern  :info  : 2026-01-01T00:00:00,000001+00:00 NVRM: loading NVIDIA UNIX x86_64 Kernel Module\n';

let dir: string;
let log: string;
let statePath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xid-test-'));
  log = join(dir, 'kern.log');
  statePath = join(dir, 'kernel-log-offset.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function drain(c: XidCollector) {
  const r = await c.collect(new Date('2026-02-02T00:00:00Z'));
  await r.commit();
  return r;
}

describe('XidCollector on a file', () => {
  it('reports each line once across cycles and restarts', async () => {
    writeFileSync(log, noise + line(79));
    const a = new XidCollector({ path: log, statePath });
    expect((await drain(a)).events.map((e) => e.xid)).toEqual([79]);
    expect((await drain(a)).events).toEqual([]);
    appendFileSync(log, line(13) + noise);
    expect((await drain(a)).events.map((e) => e.xid)).toEqual([13]);
    appendFileSync(log, line(48));
    const restarted = new XidCollector({ path: log, statePath });
    expect((await drain(restarted)).events.map((e) => e.xid)).toEqual([48]);
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ kind: 'file', offset: readFileSync(log).length });
  });

  it('re-reads events whose batch was never committed', async () => {
    writeFileSync(log, line(79));
    const c = new XidCollector({ path: log, statePath });
    expect((await c.collect()).events).toHaveLength(1); // no commit: the enqueue "failed"
    expect((await drain(c)).events).toHaveLength(1);
    expect((await drain(c)).events).toHaveLength(0);
  });

  it('waits for a line to be complete', async () => {
    writeFileSync(log, line(79).trimEnd());
    const c = new XidCollector({ path: log, statePath });
    expect((await drain(c)).events).toHaveLength(0);
    appendFileSync(log, '\n');
    expect((await drain(c)).events).toHaveLength(1);
  });

  it('starts over after rotation and truncation', async () => {
    writeFileSync(log, line(79));
    const c = new XidCollector({ path: log, statePath });
    await drain(c);
    renameSync(log, `${log}.1`);
    writeFileSync(log, line(13));
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([13]);
    writeFileSync(log, ''); // copytruncate
    appendFileSync(log, line(31));
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([31]);
  });

  it('on first start only looks at the tail of a large existing log, from a line boundary', async () => {
    writeFileSync(log, line(43).repeat(200) + line(94));
    const c = new XidCollector({ path: log, statePath, firstReadTailBytes: line(94).length + 10 });
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([94]);
  });

  it('caps events per batch and continues where it stopped', async () => {
    writeFileSync(log, [1, 2, 3, 4, 5].map((n) => line(n)).join(''));
    const c = new XidCollector({ path: log, statePath, maxEvents: 2 });
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([1, 2]);
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([3, 4]);
    expect((await drain(c)).events.map((e) => e.xid)).toEqual([5]);
  });

  it('matches GPU UUIDs by normalised PCI id, from nvidia-smi or from "GPU at" lines', async () => {
    writeFileSync(log, line(79) + line(13, '0000:9b:00'));
    const c = new XidCollector({ path: log, statePath });
    c.learnGpus([{ uuid: UUID, pciBusId: '00000000:3B:00.0' }]);
    const [a, b] = (await drain(c)).events;
    expect(a).toMatchObject({
      gpuUuid: UUID,
      pciBusId: '00000000:3B:00.0',
      occurredAt: '2026-01-01T00:00:00.000Z',
      pid: 42,
      processName: 'python3',
      message: 'msg 79',
    });
    expect(b).toMatchObject({ gpuUuid: null, pciBusId: '00000000:9B:00.0' });
    appendFileSync(
      log,
      '[Sun Feb 23 16:24:18 2025] NVRM: GPU at PCI:0000:9b:00: GPU-509665ad-b600-ac93-3616-d754b23d0000\n' + line(119, '0000:9b:00'),
    );
    expect((await drain(c)).events[0]).toMatchObject({ xid: 119, gpuUuid: 'GPU-509665ad-b600-ac93-3616-d754b23d0000' });
  });

  it('uses the read time when a line has no timestamp', async () => {
    writeFileSync(log, 'NVRM: Xid (PCI:0000:3b:00): 79, pid=1, name=x, gone\n');
    const c = new XidCollector({ path: log, statePath: null });
    expect((await drain(c)).events[0]!.occurredAt).toBe('2026-02-02T00:00:00.000Z');
  });

  it('reports a missing log as an error, not a crash', async () => {
    const r = await new XidCollector({ path: join(dir, 'nope.log'), statePath }).collect();
    expect(r.events).toEqual([]);
    expect(r.error).toMatch(/cannot read the kernel log .*ENOENT/);
  });

  it('parses both real fixtures end to end', async () => {
    for (const [name, count] of [
      ['xid_dmesg_iso_13_43.log.txt', 17],
      ['xid_dmesg_ctime_119_gsp.log.txt', 5],
    ] as const) {
      const text = readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
      writeFileSync(log, text);
      const r = await new XidCollector({ path: log, statePath: null }).collect();
      expect(r.events).toHaveLength(count);
      expect(r.warnings).toEqual([]);
    }
  });
});

const kmsgReadable = (() => {
  try {
    accessSync('/dev/kmsg', constants.R_OK);
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(kmsgReadable)('XidCollector on /dev/kmsg', () => {
  it('reads the ring buffer without blocking and remembers the sequence number', async () => {
    const c = new XidCollector({ path: '/dev/kmsg', statePath });
    const r = await c.collect();
    expect(r.error).toBeNull();
    await r.commit();
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(state).toMatchObject({ kind: 'kmsg', path: '/dev/kmsg' });
    expect(state.seq).toBeGreaterThanOrEqual(0);
  });
});

describe('XidCollector: fallen off the bus, MIG and undated lines', () => {
  it('reports a fallen-off-the-bus message without an Xid line for the GPU named just before it', async () => {
    writeFileSync(
      log,
      [
        `kern  :err   : 2026-01-01T00:00:01,000001+00:00 NVRM: GPU at PCI:0000:3b:00: ${UUID}`,
        'kern  :err   : 2026-01-01T00:00:01,000002+00:00 NVRM: GPU Board Serial Number: 1652823051234',
        'kern  :err   : 2026-01-01T00:00:01,000003+00:00 NVRM: GPU has fallen off the bus.',
        '',
      ].join('\n'),
    );
    const { events } = await drain(new XidCollector({ path: log, statePath }));
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'fallen_off_bus',
        xid: 79,
        gpuUuid: UUID,
        pciBusId: '00000000:3B:00.0',
        occurredAt: '2026-01-01T00:00:01.000Z',
        undated: false,
        gpuInstanceId: null,
      }),
    ]);
  });

  it('keeps the GPU instance of a MIG Xid line', async () => {
    writeFileSync(
      log,
      'kern  :warn  : 2026-01-01T00:00:00,000001+00:00 NVRM: Xid (PCI:0000:01:00 GPU-I:05): 94, pid=7194, Contained: CE User Channel (0x9). RST: No, D-RST: No\n',
    );
    const { events } = await drain(new XidCollector({ path: log, statePath }));
    expect(events).toEqual([
      expect.objectContaining({ kind: 'xid', xid: 94, gpuInstanceId: 5, pciBusId: '00000000:01:00.0', pid: 7194, undated: false }),
    ]);
  });

  it('flags a line whose timestamp it cannot read as undated instead of passing the read time off as its time', async () => {
    writeFileSync(
      log,
      '12月 02 15:44:11 gpu-node-01 kernel: NVRM: Xid (PCI:0000:3b:00): 13, pid=1, name=x, y\nDez 02 15:44:11 gpu-node-01 kernel: NVRM: Xid (PCI:0000:3b:00): 43, pid=1, name=x, y\n',
    );
    const { events } = await drain(
      new XidCollector({ path: log, statePath, clock: () => ({ now: new Date(2026, 11, 2, 16), uptimeSeconds: 100 }) }),
    );
    expect(events.map((e) => [e.xid, e.undated])).toEqual([
      [13, true],
      [43, false],
    ]);
    expect(events[0]!.occurredAt).toBe('2026-02-02T00:00:00.000Z'); // the read time, flagged
    expect(new Date(events[1]!.occurredAt).getTime()).toBe(new Date(2026, 11, 2, 15, 44, 11).getTime());
  });
});
