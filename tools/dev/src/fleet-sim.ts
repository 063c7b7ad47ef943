/**
 * A simulated GPU fleet: hundreds to thousands of nodes in one process, each enrolled through the REAL
 * enroll endpoint with its own one-time join token and credential, each reporting over the REAL agent
 * telemetry API with the batch shape a real agent sends (one collection of all its GPUs per interval,
 * engine samples, the odd Xid line, a few faulty GPUs). What the per-node agent process costs
 * (nvidia-smi, disk queue) is not simulated: this is the control plane's load, cheap enough to run beside it.
 *
 * Used by `npm run bench:fleet` (tools/bench/src/bench-fleet.ts) and by `FLEETPLANE_DEMO_FLEET_NODES` in `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import {
  AGENT_API_PATHS,
  agentAuthorizationHeader,
  ZEnrollResponse,
  type TEngineSample,
  type TGpuSample,
  type TTelemetryBatch,
  type TXidEvent,
} from '@fleetplane/contracts';

export interface SimGpuModel {
  name: string;
  memoryTotalMib: number;
  powerLimitW: number;
}

export const SIM_GPU_MODELS = {
  h100: { name: 'NVIDIA H100 80GB HBM3', memoryTotalMib: 81559, powerLimitW: 700 },
  h200: { name: 'NVIDIA H200', memoryTotalMib: 143771, powerLimitW: 700 },
  b200: { name: 'NVIDIA B200', memoryTotalMib: 183359, powerLimitW: 1000 },
} satisfies Record<string, SimGpuModel>;

/** What a GPU does in the simulation. Most are busy; a few per thousand carry the faults operators look for. */
export type SimGpuProfile = 'busy' | 'hot' | 'ecc' | 'throttled' | 'xid';

export interface SimNode {
  hostname: string;
  credential: string;
  nodeId: string;
  gpuModel: SimGpuModel;
  gpus: { uuid: string; index: number; pciBusId: string; profile: SimGpuProfile }[];
}

export interface SimEnrollRequest {
  hostname: string;
  joinToken: string;
}

/** The PCI slots a real 8-GPU HGX board reports (normalised, as the agent sends them). */
export function simPciBusId(index: number): string {
  return `00000000:${(0x18 + index * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`;
}

/** Stable GPU UUIDs per host and index (NVML's format: GPU-8-4-4-4-12 hex). */
export function simGpuUuid(hostname: string, index: number): string {
  let h = 2166136261;
  for (const ch of `${hostname}/${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(8, '0').slice(0, len);
  const a = h;
  const b = Math.imul(h ^ 0x5bd1e995, 2654435761);
  const c = Math.imul(b ^ 0x27d4eb2f, 374761393);
  return `GPU-${hex(a, 8)}-${hex(b, 4)}-${hex(b >>> 16, 4)}-${hex(c, 4)}-${hex(c, 8)}${hex(a ^ c, 4)}`;
}

/**
 * Which GPUs are faulty: deterministic from the host name, about `faultyPerThousand` in a thousand,
 * spread over the kinds of fault the health rules know.
 */
export function simProfileFor(hostname: string, index: number, faultyPerThousand: number): SimGpuProfile {
  let h = 2166136261;
  for (const ch of `${hostname}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const roll = h % 1000;
  if (roll >= faultyPerThousand) return 'busy';
  const kinds: SimGpuProfile[] = ['hot', 'ecc', 'throttled', 'xid'];
  return kinds[(h >>> 10) % kinds.length]!;
}

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 64 });

interface HttpAnswer {
  status: number;
  body: string;
}

/** One HTTP/1.1 request over a shared keep-alive pool (what a fleet of agents looks like to a load balancer). */
function post(url: URL, method: 'POST' | 'PUT', headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body).toString(), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Enrolls hosts through POST /api/agent/v1/enroll, `concurrency` at a time. */
export async function enrollSimulatedNodes(
  serverUrl: string,
  requests: readonly SimEnrollRequest[],
  opts: { gpuModel: SimGpuModel; gpusPerNode: number; faultyPerThousand?: number; concurrency?: number },
): Promise<SimNode[]> {
  const out: SimNode[] = new Array(requests.length);
  let next = 0;
  const url = new URL(AGENT_API_PATHS.enroll, serverUrl);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests.length) return;
      const r = requests[i]!;
      const res = await post(
        url,
        'POST',
        {},
        JSON.stringify({
          joinToken: r.joinToken,
          hostname: r.hostname,
          agentVersion: '0.1.0',
          driverVersion: '580.95.05',
          cudaVersion: '13.0',
        }),
        30_000,
      );
      if (res.status !== 201) throw new Error(`enrolling ${r.hostname} failed: HTTP ${res.status} ${res.body.slice(0, 300)}`);
      const enrolled = ZEnrollResponse.parse(JSON.parse(res.body));
      out[i] = {
        hostname: r.hostname,
        credential: enrolled.credential,
        nodeId: enrolled.nodeId,
        gpuModel: opts.gpuModel,
        gpus: Array.from({ length: opts.gpusPerNode }, (_, index) => ({
          uuid: simGpuUuid(r.hostname, index),
          index,
          pciBusId: simPciBusId(index),
          profile: simProfileFor(r.hostname, index, opts.faultyPerThousand ?? 2),
        })),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return out;
}

/** One collection of every GPU of a node at `at`, shaped as a real agent's batch. */
export function simBatch(node: SimNode, at: Date, opts: { engine: boolean; xid: boolean; tokensSoFar: number }): TTelemetryBatch {
  const t = at.getTime();
  const iso = at.toISOString();
  const gpuSamples: TGpuSample[] = node.gpus.map((g) => {
    const load = 0.55 + 0.4 * Math.sin(t / 97_000 + g.index * 0.7 + node.hostname.length);
    const hot = g.profile === 'hot';
    return {
      sampledAt: iso,
      uuid: g.uuid,
      index: g.index,
      name: node.gpuModel.name,
      pciBusId: g.pciBusId,
      memoryTotalMib: node.gpuModel.memoryTotalMib,
      memoryUsedMib: Math.round(node.gpuModel.memoryTotalMib * (0.86 + 0.05 * load)),
      utilizationGpuPct: Math.round(50 + 48 * load),
      utilizationMemoryPct: Math.round(25 + 40 * load),
      temperatureC: hot ? 91 + Math.round(3 * load) : Math.round(44 + 28 * load),
      powerDrawW: Math.round((0.35 + 0.55 * load) * node.gpuModel.powerLimitW * 100) / 100,
      powerLimitW: node.gpuModel.powerLimitW,
      smClockMhz: g.profile === 'throttled' ? 1200 : 1980 - Math.round(90 * load),
      eccCorrectedVolatile: g.profile === 'ecc' ? 12 : 0,
      eccUncorrectedVolatile: g.profile === 'ecc' ? 1 : 0,
      clocksEventReasons: g.profile === 'throttled' ? 0x20 : hot ? 0x40 : 0,
      remappedRowsCorrectable: 0,
      remappedRowsUncorrectable: g.profile === 'ecc' ? 1 : 0,
      remappedRowsPending: g.profile === 'ecc',
      remappedRowsFailure: false,
    };
  });
  const xidEvents: TXidEvent[] = [];
  if (opts.xid) {
    const g = node.gpus.find((x) => x.profile === 'xid');
    if (g) {
      const pci = g.pciBusId.replace(/^0000/, '');
      xidEvents.push({
        occurredAt: iso,
        pciBusId: g.pciBusId,
        gpuUuid: g.uuid,
        xid: 13,
        pid: 4242,
        processName: 'python3',
        message: 'Graphics SM Warp Exception on (GPC 0, TPC 1, SM 0): Illegal Instruction Encoding',
        rawLine: `${iso} ${node.hostname} kernel: NVRM: Xid (PCI:${pci}): 13, pid=4242, name=python3, Graphics SM Warp Exception on (GPC 0, TPC 1, SM 0): Illegal Instruction Encoding`,
      });
    }
  }
  const engineSamples: TEngineSample[] = opts.engine
    ? [
        {
          sampledAt: iso,
          engine: 'vllm',
          modelName: 'deepseek-ai/DeepSeek-V4-Flash',
          runningRequests: Math.round(20 + 30 * Math.abs(Math.sin(t / 60_000))),
          waitingRequests: Math.round(3 * Math.abs(Math.sin(t / 41_000))),
          kvCacheUsageFraction: Math.min(1, Math.round((0.4 + 0.3 * Math.abs(Math.sin(t / 80_000))) * 1000) / 1000),
          promptTokensTotal: opts.tokensSoFar * 4,
          generationTokensTotal: opts.tokensSoFar,
          ttftSecondsSum: opts.tokensSoFar / 5000,
          ttftSecondsCount: Math.floor(opts.tokensSoFar / 400),
        },
      ]
    : [];
  return {
    batchId: randomUUID(),
    sentAt: iso,
    host: { hostname: node.hostname, agentVersion: '0.1.0', driverVersion: '580.95.05', cudaVersion: '13.0' },
    gpuSamples,
    xidEvents,
    engineSamples,
    droppedSamples: 0,
    clockOffsetMs: 0,
  };
}

export interface FleetRunStats {
  requests: number;
  accepted: number;
  storedGpuSamples: number;
  /** Status (or error code) -> count. */
  errors: Record<string, number>;
  /** Request latency in ms, counted from the batch's scheduled time (no coordinated omission). */
  latenciesMs: number[];
  /** Batches that could not be sent in their interval because the previous one was still in flight. */
  late: number;
}

export interface FleetRun {
  stats(): FleetRunStats;
  /** Clears the counters (after a warm-up). */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Starts every node on its own timer, staggered evenly over the interval (agents do not start in step).
 * A batch that failed is sent again next interval with the same batch id, as the agent's disk queue does;
 * a node never has more than one request in flight.
 */
export function runSimulatedFleet(
  serverUrl: string,
  nodes: readonly SimNode[],
  opts: { intervalSeconds: number; engine?: boolean; xidEveryIntervals?: number; timeoutMs?: number },
): FleetRun {
  const url = new URL(AGENT_API_PATHS.telemetry, serverUrl);
  const intervalMs = opts.intervalSeconds * 1000;
  let stats: FleetRunStats = { requests: 0, accepted: 0, storedGpuSamples: 0, errors: {}, latenciesMs: [], late: 0 };
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  const started = performance.now();

  nodes.forEach((node, i) => {
    let pending: { body: string } | null = null;
    let busy = false;
    let tick = 0;
    const offset = (intervalMs * i) / nodes.length;
    const fire = () => {
      if (stopped) return;
      const scheduled = started + offset + tick * intervalMs;
      tick += 1;
      if (busy) {
        stats.late += 1;
        return;
      }
      const batch = pending ?? {
        body: JSON.stringify(
          simBatch(node, new Date(), {
            engine: opts.engine ?? true,
            xid: opts.xidEveryIntervals ? tick % opts.xidEveryIntervals === 0 : false,
            tokensSoFar: tick * 5000,
          }),
        ),
      };
      busy = true;
      const p = post(url, 'POST', { authorization: agentAuthorizationHeader(node.credential) }, batch.body, opts.timeoutMs ?? 30_000)
        .then((res) => {
          stats.requests += 1;
          stats.latenciesMs.push(performance.now() - scheduled);
          if (res.status === 200) {
            stats.accepted += 1;
            const stored = (JSON.parse(res.body) as { stored?: { gpuSamples?: number } }).stored;
            stats.storedGpuSamples += stored?.gpuSamples ?? 0;
            pending = null;
          } else {
            stats.errors[String(res.status)] = (stats.errors[String(res.status)] ?? 0) + 1;
            // 4xx other than 429 will not get better: the real agent dead-letters those.
            pending = res.status === 429 || res.status >= 500 ? batch : null;
          }
        })
        .catch((err: Error) => {
          stats.requests += 1;
          stats.errors[err.message.slice(0, 60)] = (stats.errors[err.message.slice(0, 60)] ?? 0) + 1;
          pending = batch;
        })
        .finally(() => {
          busy = false;
          inFlight.delete(p);
        });
      inFlight.add(p);
    };
    const first = setTimeout(() => {
      fire();
      timers.push(setInterval(fire, intervalMs));
    }, offset);
    timers.push(first);
  });

  return {
    stats: () => stats,
    reset: () => {
      stats = { requests: 0, accepted: 0, storedGpuSamples: 0, errors: {}, latenciesMs: [], late: 0 };
    },
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Closes the shared keep-alive sockets (call once when the process is done with the simulator). */
export function closeFleetSimSockets(): void {
  keepAlive.destroy();
}
