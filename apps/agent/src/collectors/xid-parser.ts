import {
  FALLEN_OFF_BUS_XID,
  MAX_XID_MESSAGE_LENGTH,
  MAX_XID_RAW_LINE_LENGTH,
  normalisePciBusId,
  type TXidEventKind,
} from '@fleetplane/contracts';

export interface ParsedXid {
  /** `xid` for an `NVRM: Xid (` line; `fallen_off_bus` for a "GPU has fallen off the bus" message without one (sent as Xid 79). */
  kind: TXidEventKind;
  /** The PCI address inside the parentheses, e.g. `PCI:0000:3b:00` (without a MIG ` GPU-I:05` suffix). */
  pciAsPrinted: string;
  /** The same without `PCI:`. */
  pciBdf: string;
  /** Normalised (`00000000:3B:00.0`), or null if the kernel printed something that is not a PCI address. */
  pciBusId: string | null;
  xid: number;
  /** MIG: the GPU instance the line names (`GPU-I:05` → 5); null when the line names none. */
  gpuInstanceId: number | null;
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

// Domain reference §3.2, loosened to accept a missing `PCI:` and the MIG attribution the driver adds
// inside the parentheses: `(PCI:0000:01:00 GPU-I:05)` or `(PCI:0000:3b:00 GPU-I:01 GPU-CI:02)`.
const XID = /NVRM: Xid \(((?:PCI:)?[0-9a-fA-F:.]+)(?:\s+GPU-I:(\d+))?(?:\s+GPU-CI:\d+)?\): (\d+),\s*(.*)$/;
// "GPU has fallen off the bus" outside an Xid line, e.g. `NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.`
const FALLEN_OFF_BUS = /NVRM: (.*fallen off the bus.*)$/i;
const PCI_IN_TEXT = /\b(?:PCI:)?([0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?)\b/;
const PID = /^pid=('?<unknown>'?|\d+)(?:,\s*|$)/;
const NAME = /^name=([^,]*)(?:,\s*|$)/;
const GPU_AT = /NVRM: GPU at (PCI:[0-9a-fA-F:.]+): ((?:GPU|MIG)-[0-9a-fA-F-]{36})\b/;

// Month names as syslog, journalctl and `dmesg -T` print them (strftime %b) under common locales, plus
// the full names: en, de, fr, es, it, pt, nl, sv/da/nb, pl, ru. Lower case, without a trailing dot. None
// of them means two different months; a name not listed makes the line undated, never wrongly dated.
export const MONTH_NAMES: ReadonlyArray<readonly string[]> = [
  [
    'jan',
    'january',
    'januar',
    'janv',
    'janvier',
    'ene',
    'enero',
    'gen',
    'gennaio',
    'janeiro',
    'januari',
    'sty',
    'styczeń',
    'stycznia',
    'янв',
    'января',
    'январь',
  ],
  [
    'feb',
    'february',
    'februar',
    'févr',
    'fevr',
    'fév',
    'février',
    'febrero',
    'febbraio',
    'fev',
    'fevereiro',
    'februari',
    'lut',
    'luty',
    'lutego',
    'фев',
    'февр',
    'февраля',
    'февраль',
  ],
  ['mar', 'march', 'mär', 'mrz', 'märz', 'mars', 'marzo', 'março', 'mrt', 'maart', 'mars', 'marzec', 'marca', 'мар', 'марта', 'март'],
  ['apr', 'april', 'avr', 'avril', 'abr', 'abril', 'aprile', 'kwi', 'kwiecień', 'kwietnia', 'апр', 'апреля', 'апрель'],
  ['may', 'mai', 'mayo', 'mag', 'maggio', 'maio', 'mei', 'maj', 'maja', 'мая', 'май'],
  ['jun', 'june', 'juni', 'juin', 'junio', 'giu', 'giugno', 'junho', 'cze', 'czerwiec', 'czerwca', 'июн', 'июня', 'июнь'],
  ['jul', 'july', 'juli', 'juil', 'juillet', 'julio', 'lug', 'luglio', 'julho', 'lip', 'lipiec', 'lipca', 'июл', 'июля', 'июль'],
  ['aug', 'august', 'août', 'aout', 'ago', 'agosto', 'augustus', 'augusti', 'sie', 'sierpień', 'sierpnia', 'авг', 'августа', 'август'],
  [
    'sep',
    'sept',
    'september',
    'septembre',
    'septiembre',
    'set',
    'settembre',
    'setembro',
    'wrz',
    'wrzesień',
    'września',
    'сен',
    'сент',
    'сентября',
    'сентябрь',
  ],
  [
    'oct',
    'october',
    'okt',
    'oktober',
    'octobre',
    'octubre',
    'ott',
    'ottobre',
    'out',
    'outubro',
    'paź',
    'październik',
    'października',
    'окт',
    'октября',
    'октябрь',
  ],
  ['nov', 'november', 'novembre', 'noviembre', 'novembro', 'lis', 'listopad', 'listopada', 'ноя', 'нояб', 'ноября', 'ноябрь'],
  [
    'dec',
    'december',
    'dez',
    'dezember',
    'déc',
    'décembre',
    'dic',
    'diciembre',
    'dicembre',
    'dezembro',
    'des',
    'desember',
    'gru',
    'grudzień',
    'grudnia',
    'дек',
    'декабря',
    'декабрь',
  ],
];
const MONTH_BY_NAME = new Map<string, number>(MONTH_NAMES.flatMap((names, month) => names.map((n) => [n, month] as [string, number])));

/** Month index (0–11) of a printed month name in any listed locale (`Dez`, `déc.`, `dic`), or -1. */
export function monthIndex(printed: string): number {
  return MONTH_BY_NAME.get(printed.normalize('NFC').toLocaleLowerCase('en-US').replace(/\.$/, '')) ?? -1;
}

// A month token: letters in any script, optionally ending in a dot (`déc.`, `févr.`).
const MONTH = String.raw`(\p{L}+\.?)`;
const CTIME = new RegExp(String.raw`^\[\S+ +${MONTH} +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\]`, 'u');
const SYSLOG = new RegExp(String.raw`^${MONTH} +(\d{1,2}) (\d\d):(\d\d):(\d\d) `, 'u');

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
  // `dmesg -T`: [Sun Feb 23 16:24:18 2025], in the host's local time and language ([Mi Dez  2 …]).
  const ctime = CTIME.exec(prefix);
  if (ctime) {
    const month = monthIndex(ctime[1]!);
    if (month === -1) return null;
    return new Date(Number(ctime[6]), month, Number(ctime[2]), Number(ctime[3]), Number(ctime[4]), Number(ctime[5]));
  }
  // Classic syslog (/var/log/kern.log) and journalctl's short format: "Feb 23 16:24:18 host kernel:" has
  // no year, and the month follows the host's locale ("Dez 02 …", "déc. 02 …").
  const syslog = SYSLOG.exec(prefix);
  if (syslog) {
    const month = monthIndex(syslog[1]!);
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
  let rest = match[4]!;
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
    kind: 'xid',
    pciAsPrinted,
    pciBdf,
    pciBusId: normalisePciBusId(pciBdf),
    xid: Number(match[3]),
    gpuInstanceId: match[2] === undefined ? null : Number(match[2]),
    pid: pid !== null && Number.isSafeInteger(pid) && pid <= 2_147_483_647 ? pid : null,
    processName,
    message: rest.trim().slice(0, MAX_XID_MESSAGE_LENGTH),
    timestamp: parseKernelTimestamp(prefix, clock),
    rawLine: line.slice(0, MAX_XID_RAW_LINE_LENGTH),
  };
}

/**
 * A "GPU has fallen off the bus" message that is not an Xid line (`NVRM: GPU 0000:3b:00.0: GPU has fallen
 * off the bus.`), as an event with Xid 79. When the message names no PCI address, `recentPci` (the address
 * of a `NVRM: GPU at PCI:…` line just before it: the driver prints the report over several lines) is used;
 * null when neither names a GPU.
 */
export function parseFallenOffBusLine(rawLine: string, clock?: KernelClock, recentPci?: string | null): ParsedXid | null {
  const line = rawLine.replace(/\r$/, '');
  if (XID.test(line)) return null;
  const match = FALLEN_OFF_BUS.exec(line);
  if (!match) return null;
  const text = match[1]!;
  const named = PCI_IN_TEXT.exec(text)?.[1] ?? null;
  const pciBdf = named ?? recentPci ?? null;
  if (!pciBdf) return null;
  const pciBusId = normalisePciBusId(pciBdf);
  return {
    kind: 'fallen_off_bus',
    pciAsPrinted: pciBdf,
    pciBdf: pciBdf.replace(/^PCI:/, ''),
    pciBusId,
    xid: FALLEN_OFF_BUS_XID,
    gpuInstanceId: null,
    pid: null,
    processName: null,
    message: text.trim().slice(0, MAX_XID_MESSAGE_LENGTH),
    timestamp: parseKernelTimestamp(line.slice(0, match.index), clock),
    rawLine: line.slice(0, MAX_XID_RAW_LINE_LENGTH),
  };
}

/** How many kernel lines after a `GPU at` line a fallen-off-the-bus message without an address still belongs to it. */
const GPU_AT_CONTEXT_LINES = 4;

/**
 * Reads kernel log lines in order and yields GPU events: Xid lines, and fallen-off-the-bus messages
 * without an Xid (matched to the GPU by their own address or by the `NVRM: GPU at PCI:…` line just before).
 */
export class KernelLogReader {
  private recent: { pci: string; uuid: string; age: number } | null = null;

  constructor(private readonly onGpuAt?: (gpu: { pciBusId: string; uuid: string }) => void) {}

  line(text: string, clock?: KernelClock): ParsedXid | null {
    if (this.recent && ++this.recent.age > GPU_AT_CONTEXT_LINES) this.recent = null;
    const gpuAt = parseGpuAtLine(text);
    if (gpuAt) {
      this.recent = { pci: gpuAt.pciBusId, uuid: gpuAt.uuid, age: 0 };
      this.onGpuAt?.(gpuAt);
      return null;
    }
    return parseXidLine(text, clock) ?? parseFallenOffBusLine(text, clock, this.recent?.pci ?? null);
  }
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
  return parseKernelLogEvents(text, clock).filter((e) => e.kind === 'xid');
}

/** Every GPU event (Xid lines and fallen-off-the-bus messages) in a block of kernel log text, with 1-based line numbers. */
export function parseKernelLogEvents(text: string, clock?: KernelClock): Array<ParsedXid & { line: number }> {
  const reader = new KernelLogReader();
  const events: Array<ParsedXid & { line: number }> = [];
  text.split('\n').forEach((line, i) => {
    const parsed = reader.line(line, clock);
    if (parsed) events.push({ ...parsed, line: i + 1 });
  });
  return events;
}
