import { MAX_XID_MESSAGE_LENGTH, MAX_XID_RAW_LINE_LENGTH, normalisePciBusId } from '@fleetplane/contracts';

export interface ParsedXid {
  /** Text inside the parentheses, e.g. `PCI:0000:3b:00`. */
  pciAsPrinted: string;
  /** The same without `PCI:`. */
  pciBdf: string;
  /** Normalised (`00000000:3B:00.0`), or null if the kernel printed something that is not a PCI address. */
  pciBusId: string | null;
  xid: number;
  pid: number | null;
  processName: string | null;
  message: string;
  /** From the line's own timestamp prefix; null when it has none. */
  timestamp: Date | null;
  rawLine: string;
}

/** What the agent knows about the clock, to turn boot-relative stamps ([12.34], /dev/kmsg) into wall time. */
export interface KernelClock {
  now: Date;
  uptimeSeconds: number;
}

// Domain reference §3.2, loosened only to accept a missing `PCI:`.
const XID = /NVRM: Xid \(((?:PCI:)?[0-9a-fA-F:.]+)\): (\d+),\s*(.*)$/;
const PID = /^pid=('?<unknown>'?|\d+)(?:,\s*|$)/;
const NAME = /^name=([^,]*)(?:,\s*|$)/;
const GPU_AT = /NVRM: GPU at (PCI:[0-9a-fA-F:.]+): ((?:GPU|MIG)-[0-9a-fA-F-]{36})\b/;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function isUnknown(value: string): boolean {
  return value.replace(/'/g, '') === '<unknown>' || value === '';
}

/** Parses the timestamp prefixes seen in kernel logs; null when the prefix has none we understand. */
export function parseKernelTimestamp(prefix: string, clock?: KernelClock): Date | null {
  // `dmesg --time-format iso` (comma before the fraction) and rsyslog RFC 3339.
  const iso = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[,.](\d{1,9}))?(Z|[+-]\d\d:?\d\d)/.exec(prefix);
  if (iso) {
    const fraction = (iso[2] ?? '0').padEnd(3, '0').slice(0, 3);
    const zone = iso[3] === 'Z' ? 'Z' : iso[3]!.replace(/^([+-]\d\d)(\d\d)$/, '$1:$2');
    const date = new Date(`${iso[1]}.${fraction}${zone}`);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  // `dmesg -T`: [Sun Feb 23 16:24:18 2025], in the host's local time.
  const ctime = /^\[\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\]/.exec(prefix);
  if (ctime) {
    const month = MONTHS.indexOf(ctime[1]!);
    if (month === -1) return null;
    return new Date(Number(ctime[6]), month, Number(ctime[2]), Number(ctime[3]), Number(ctime[4]), Number(ctime[5]));
  }
  // Classic syslog (/var/log/kern.log): "Feb 23 16:24:18 host kernel:" has no year.
  const syslog = /^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) /.exec(prefix);
  if (syslog) {
    const month = MONTHS.indexOf(syslog[1]!);
    if (month === -1) return null;
    const now = clock?.now ?? new Date();
    const at = (year: number) => new Date(year, month, Number(syslog[2]), Number(syslog[3]), Number(syslog[4]), Number(syslog[5]));
    const guess = at(now.getFullYear());
    return guess.getTime() > now.getTime() + 86_400_000 ? at(now.getFullYear() - 1) : guess;
  }
  if (!clock) return null;
  const bootMs = clock.now.getTime() - clock.uptimeSeconds * 1000;
  // /dev/kmsg record: "<prio>,<seq>,<usec since boot>,<flags>;"
  const kmsg = /^\d+,\d+,(\d+),[^;]*;/.exec(prefix);
  if (kmsg) return new Date(bootMs + Number(kmsg[1]) / 1000);
  // Plain dmesg: "[ 1234.567890]" seconds since boot.
  const mono = /^\[\s*(\d+)\.(\d+)\]/.exec(prefix);
  if (mono) return new Date(bootMs + Number(`${mono[1]}.${mono[2]}`) * 1000);
  return null;
}

/** Parses one kernel log line; null unless it is an `NVRM: Xid (` line. Continuation lines never match. */
export function parseXidLine(rawLine: string, clock?: KernelClock): ParsedXid | null {
  const line = rawLine.replace(/\r$/, '');
  const match = XID.exec(line);
  if (!match) return null;
  const pciAsPrinted = match[1]!;
  const pciBdf = pciAsPrinted.replace(/^PCI:/, '');
  let rest = match[3]!;
  let pid: number | null = null;
  let processName: string | null = null;
  const pidMatch = PID.exec(rest);
  if (pidMatch) {
    pid = isUnknown(pidMatch[1]!) ? null : Number(pidMatch[1]);
    rest = rest.slice(pidMatch[0].length);
    const nameMatch = NAME.exec(rest);
    if (nameMatch) {
      processName = isUnknown(nameMatch[1]!.trim()) ? null : nameMatch[1]!.trim().slice(0, 256);
      rest = rest.slice(nameMatch[0].length);
    }
  }
  const prefix = line.slice(0, match.index);
  return {
    pciAsPrinted,
    pciBdf,
    pciBusId: normalisePciBusId(pciBdf),
    xid: Number(match[2]),
    pid: pid !== null && Number.isSafeInteger(pid) && pid <= 2_147_483_647 ? pid : null,
    processName,
    message: rest.trim().slice(0, MAX_XID_MESSAGE_LENGTH),
    timestamp: parseKernelTimestamp(prefix, clock),
    rawLine: line.slice(0, MAX_XID_RAW_LINE_LENGTH),
  };
}

/** `NVRM: GPU at PCI:0000:9b:00: GPU-…` lines tell which GPU sits at an address even when nvidia-smi cannot. */
export function parseGpuAtLine(line: string): { pciBusId: string; uuid: string } | null {
  const match = GPU_AT.exec(line);
  if (!match) return null;
  const pciBusId = normalisePciBusId(match[1]!);
  return pciBusId ? { pciBusId, uuid: match[2]! } : null;
}

/** Every Xid event in a block of kernel log text, with 1-based line numbers. */
export function parseKernelLogText(text: string, clock?: KernelClock): Array<ParsedXid & { line: number }> {
  const events: Array<ParsedXid & { line: number }> = [];
  text.split('\n').forEach((line, i) => {
    const parsed = parseXidLine(line, clock);
    if (parsed) events.push({ ...parsed, line: i + 1 });
  });
  return events;
}
