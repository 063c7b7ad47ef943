import type { AlertCondition } from './alert-reconcile';
import type { HealthReason, HealthReasonCode, NodeStatus } from './types';

export interface GpuAlertInput {
  gpuId: string;
  uuid: string;
  nodeId: string;
  clusterId: string;
  hostname: string;
  index: number;
  reasons: readonly HealthReason[];
}

export interface NodeAlertInput {
  nodeId: string;
  clusterId: string;
  hostname: string;
  status: NodeStatus;
  /** The node's own reasons; a `clock_skew` among them raises `node:<id>:clock_skew`. */
  reasons?: readonly HealthReason[];
}

export interface AlertConditionsInput {
  gpus: readonly GpuAlertInput[];
  nodes: readonly NodeAlertInput[];
}

// Titles carry no live numbers (those go in details.message): a title that changed every cycle
// would make a persisting alert look new in notifications and lists.
const RULE_TITLES: Partial<Record<HealthReasonCode, string>> = {
  gpu_error_state: 'GPU in an error state',
  ecc_uncorrected: 'uncorrected ECC errors',
  row_remap_failure: 'row remapping failed',
  row_remap_pending: 'row remap pending, reset needed',
  xid_critical: 'critical XID',
  temperature_high: 'temperature high',
  thermal_throttle: 'thermal throttling',
  power_throttle: 'power throttling',
  memory_pressure: 'memory nearly full',
  ecc_correctable_burst: 'burst of corrected ECC errors',
  xid_warning: 'XID error',
  xid_repeated: 'repeated application XIDs',
};

// no_data never alerts on its own: a dead agent already raises node:<id>:offline, and a GPU that
// drops out of a live node's report (XID 79) raises xid_critical. Node-level summary codes
// (gpu_critical, …) restate GPU alerts that exist already.
const GPU_ALERT_CODES = new Set(Object.keys(RULE_TITLES));

export function gpuFingerprint(uuid: string, code: HealthReasonCode): string {
  return `gpu:${uuid}:${code}`;
}

export function nodeOfflineFingerprint(nodeId: string): string {
  return `node:${nodeId}:offline`;
}

export function nodeClockSkewFingerprint(nodeId: string): string {
  return `node:${nodeId}:clock_skew`;
}

/**
 * Alert conditions from evaluated health: one per GPU reason (`gpu:<uuid>:<code>`, keyed on the UUID
 * because indexes change across boots), one per offline node (`node:<nodeId>:offline`) and one per node
 * whose clock is off (`node:<nodeId>:clock_skew`). A node's
 * critical or warning status is not an alert of its own: its GPUs' alerts already say why.
 */
export function alertConditionsFromHealth(input: AlertConditionsInput): AlertCondition[] {
  const conditions: AlertCondition[] = [];
  for (const gpu of input.gpus) {
    for (const reason of gpu.reasons) {
      if (!GPU_ALERT_CODES.has(reason.code)) continue;
      conditions.push({
        fingerprint: gpuFingerprint(gpu.uuid, reason.code),
        rule: reason.code,
        severity: reason.severity,
        title: `${gpu.hostname} GPU ${gpu.index}: ${RULE_TITLES[reason.code] ?? reason.code}`,
        details: {
          message: reason.message,
          value: reason.value ?? null,
          threshold: reason.threshold ?? null,
          uuid: gpu.uuid,
          index: gpu.index,
          hostname: gpu.hostname,
        },
        clusterId: gpu.clusterId,
        nodeId: gpu.nodeId,
        gpuId: gpu.gpuId,
      });
    }
  }
  for (const node of input.nodes) {
    const skew = node.reasons?.find((r) => r.code === 'clock_skew');
    if (skew) {
      conditions.push({
        fingerprint: nodeClockSkewFingerprint(node.nodeId),
        rule: 'clock_skew',
        severity: skew.severity,
        title: `${node.hostname} clock is off`,
        details: { message: skew.message, value: skew.value ?? null, threshold: skew.threshold ?? null, hostname: node.hostname },
        clusterId: node.clusterId,
        nodeId: node.nodeId,
      });
    }
    if (node.status !== 'offline') continue;
    conditions.push({
      fingerprint: nodeOfflineFingerprint(node.nodeId),
      rule: 'node_offline',
      severity: 'critical',
      title: `${node.hostname} is offline`,
      details: { hostname: node.hostname },
      clusterId: node.clusterId,
      nodeId: node.nodeId,
    });
  }
  return conditions;
}
