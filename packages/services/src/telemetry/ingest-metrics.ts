import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const INGEST_REJECT_REASONS = [
  'invalid_payload',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'rate_limited',
  'internal',
] as const;
export type TIngestRejectReason = (typeof INGEST_REJECT_REASONS)[number];

export interface IngestMetrics {
  registry: Registry;
  samplesAccepted: Counter;
  xidEventsAccepted: Counter;
  engineSamplesAccepted: Counter;
  batchesAccepted: Counter;
  batchesDuplicate: Counter;
  batchesRejected: Counter<'reason'>;
  enrollments: Counter<'result'>;
  ingestSeconds: Histogram;
}

const g = globalThis as unknown as { __fleetplaneIngestMetrics?: IngestMetrics };

/**
 * Process-wide counters of the agent API (one set per web replica; Prometheus sums them). Kept on
 * globalThis because Next.js may instantiate a route module more than once per process.
 */
export function ingestMetrics(): IngestMetrics {
  if (g.__fleetplaneIngestMetrics) return g.__fleetplaneIngestMetrics;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetplane_web_' });
  const m: IngestMetrics = {
    registry,
    samplesAccepted: new Counter({
      name: 'fleetplane_telemetry_gpu_samples_accepted_total',
      help: 'GPU samples stored from agent batches (duplicates not counted).',
      registers: [registry],
    }),
    xidEventsAccepted: new Counter({
      name: 'fleetplane_telemetry_xid_events_accepted_total',
      help: 'New XID events stored from agent batches.',
      registers: [registry],
    }),
    engineSamplesAccepted: new Counter({
      name: 'fleetplane_telemetry_engine_samples_accepted_total',
      help: 'Serving-engine samples stored from agent batches.',
      registers: [registry],
    }),
    batchesAccepted: new Counter({
      name: 'fleetplane_telemetry_batches_accepted_total',
      help: 'Agent telemetry batches stored (first delivery).',
      registers: [registry],
    }),
    batchesDuplicate: new Counter({
      name: 'fleetplane_telemetry_batches_duplicate_total',
      help: 'Agent telemetry batches acknowledged as duplicates of an earlier delivery (nothing stored).',
      registers: [registry],
    }),
    batchesRejected: new Counter({
      name: 'fleetplane_telemetry_batches_rejected_total',
      help: 'Agent telemetry batches refused, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    enrollments: new Counter({
      name: 'fleetplane_agent_enrollments_total',
      help: 'Agent enrollment attempts, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'fleetplane_telemetry_ingest_duration_seconds',
      help: 'Time to authenticate, validate and store one telemetry batch.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
  // Every reason shows up at 0 from the first scrape, so rate() works before the first refusal.
  for (const reason of INGEST_REJECT_REASONS) m.batchesRejected.inc({ reason }, 0);
  g.__fleetplaneIngestMetrics = m;
  return m;
}
