import type { ReasonSeverity } from './types';

export interface XidInfo {
  code: number;
  /** NVIDIA's name for the code, as dcgm-exporter prints it in `err_msg`. */
  meaning: string;
  severity: ReasonSeverity;
  /** What an operator should do; our summary of common practice, not NVIDIA wording. */
  action: string;
  /** Usually caused by the application, not the GPU: only repeats say something about the card. */
  appLevel: boolean;
  /** False for codes we synthesise an entry for (not in the catalogue). */
  known: boolean;
}

/**
 * XIDs that make a GPU critical. The brief's list (48, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140)
 * plus four additions:
 * - 62 micro-controller halt: the GPU makes no progress until it is reset.
 * - 143 GPU initialisation failure: the card is not usable at all.
 * - 171 / 172 uncorrectable DRAM / SRAM error: the same class of fault as 48 and 95, reported under
 *   these codes by newer drivers; an uncorrectable memory error is critical whichever code carries it.
 */
export const CRITICAL_XIDS: readonly number[] = Object.freeze([48, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140, 143, 171, 172]);

/** Application-level XIDs: a warning once, a "repeated" warning when they keep coming back. */
export const APP_LEVEL_XIDS: readonly number[] = Object.freeze([13, 31, 43, 45]);

const DRAIN_RESET = 'Drain the GPU and reset it';
const NVLINK5 =
  'NVLink5 (Blackwell) error: a fatal one needs the GPU drained and reset, then the link checked; a non-fatal one needs nothing unless it repeats';

/**
 * NVLink5 Xids (Blackwell, driver R565+). NVIDIA grades each of them by its sub-code: some are fatal
 * (GPU reset needed), most are not, and the driver prints which in the line itself
 * (`144, SAW_MVB Nonfatal XC0 …`, `149, NETIR_LINK_EVT Fatal XC0 …`). See `describeXidEvent`.
 */
export const NVLINK5_XIDS: readonly number[] = Object.freeze([144, 145, 146, 147, 148, 149, 150]);
type Row = [code: number, meaning: string, action: string];

const ROWS: Row[] = [
  [8, 'GPU stopped processing', 'Check the driver and the application; reset the GPU if it repeats'],
  [13, 'Graphics Engine Exception', 'Usually the application; check for repeats on the same GPU'],
  [31, 'GPU memory page fault', 'Usually an application or driver bug; check for repeats'],
  [32, 'Invalid or corrupted push buffer stream', 'Check the PCIe link and the driver if it repeats'],
  [43, 'GPU stopped processing', 'Usually the application; the GPU stays usable'],
  [45, 'Preemptive cleanup, due to previous errors', 'Follows another error; look at the XID before it'],
  [48, 'Double Bit ECC Error', DRAIN_RESET],
  [61, 'Internal micro-controller breakpoint/warning', 'Reset the GPU if it repeats or is followed by XID 62'],
  [62, 'Internal micro-controller halt', 'Reset the GPU'],
  [63, 'ECC page retirement or row remapping recording event', 'Reset the GPU to apply the remap'],
  [64, 'ECC page retirement or row remapper recording failure', 'Drain the GPU; RMA candidate'],
  [74, 'NVLINK Error', 'Check the NVLink connection, then reset the GPU'],
  [79, 'GPU has fallen off the bus', 'Node-level problem: drain and reboot the node, check PCIe and power'],
  [92, 'High single-bit ECC error rate', 'Watch the ECC counters and drain the GPU'],
  [94, 'Contained ECC error', 'The affected application was stopped; the GPU is usable but a reset is advised'],
  [95, 'Uncontained ECC error', DRAIN_RESET],
  [109, 'Context Switch Timeout Error', 'Check the application and the driver; reset the GPU if it repeats'],
  [119, 'GSP RPC Timeout', 'Reset the GPU'],
  [120, 'GSP Error', 'Reset the GPU'],
  [140, 'Unrecovered ECC Error', 'Reset the GPU'],
  [143, 'GPU Initialization Failure', 'Reset the GPU or reboot the node; RMA candidate if it persists'],
  // NVIDIA's catalogue descriptions ("NVLINK: … Error"); severity per event, see describeXidEvent.
  [144, 'NVLINK: SAW Error', NVLINK5],
  [145, 'NVLINK: RLW Error', NVLINK5],
  [146, 'NVLINK: TLW Error', NVLINK5],
  [147, 'NVLINK: TREX Error', NVLINK5],
  [148, 'NVLINK: NVLPW_CTRL Error', NVLINK5],
  [149, 'NVLINK: NETIR Error', NVLINK5],
  [150, 'NVLINK: MSE Error', NVLINK5],
  [154, 'GPU Recovery Action Changed', 'Read gpu_recovery_action (nvidia-smi -q) and do what it asks'],
  [171, 'Uncorrectable DRAM Error', DRAIN_RESET],
  [172, 'Uncorrectable SRAM Error', DRAIN_RESET],
];

const critical = new Set(CRITICAL_XIDS);
const appLevel = new Set(APP_LEVEL_XIDS);

/** Every XID we know, sorted by code. */
export const XID_CATALOGUE: readonly XidInfo[] = Object.freeze(
  ROWS.map(([code, meaning, action]) =>
    Object.freeze({
      code,
      meaning,
      action,
      severity: critical.has(code) ? 'critical' : 'warning',
      appLevel: appLevel.has(code),
      known: true,
    } satisfies XidInfo),
  ),
);

const byCode = new Map(XID_CATALOGUE.map((x) => [x.code, x]));

/** Catalogue entry for `code`; an unknown code gets a warning entry so it is never silently dropped. */
export function describeXid(code: number): XidInfo {
  if (!Number.isInteger(code) || code < 0) throw new RangeError(`XID must be a non-negative integer, got ${code}`);
  return (
    byCode.get(code) ?? {
      code,
      meaning: `Unknown XID ${code}`,
      severity: 'warning',
      action: "Look the code up in NVIDIA's XID catalogue for this driver",
      appLevel: false,
      known: false,
    }
  );
}

const nvlink5 = new Set(NVLINK5_XIDS);
// "Fatal" as its own word: "Nonfatal" / "Non-fatal" do not match.
const FATAL = /(?<![-\w])fatal\b/i;

/**
 * Catalogue entry for one kernel line: as `describeXid`, except that an NVLink5 Xid (144–150) whose line
 * says it is fatal is critical (NVIDIA: reset the GPU); a non-fatal or ungraded one stays a warning.
 */
export function describeXidEvent(code: number, message: string): XidInfo {
  const info = describeXid(code);
  if (!nvlink5.has(code) || !FATAL.test(message)) return info;
  return {
    ...info,
    meaning: `${info.meaning} (fatal)`,
    severity: 'critical',
    action: 'Fatal NVLink5 error: drain the GPU and reset it, then check the link',
  };
}

export function isCriticalXid(code: number): boolean {
  return critical.has(code);
}
