// A larger, simulated fleet beside the demo's real agents (FLEETPLANE_DEMO_FLEET_NODES > 0): a cluster
// "sim-fleet" whose nodes are enrolled through the real enroll endpoint and report over the real agent API
// (tools/dev/src/fleet-sim.ts), so the overview, cluster grid and /metrics show a fleet of realistic size.
// Credentials are kept in .data/sim-fleet.json; a reset database gets fresh enrollments.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPrismaClient } from '@fleetplane/db';
import { createJoinToken, hashSecret } from '@fleetplane/services';
import { enrollSimulatedNodes, runSimulatedFleet, SIM_GPU_MODELS, simGpuUuid, simPciBusId, simProfileFor, type SimNode } from './fleet-sim';

export const SIM_FLEET_CLUSTER = 'sim-fleet';
const SIM_FLEET_SITE = 'fra-dc1';
const GPUS_PER_NODE = 8;
const INTERVAL_SECONDS = 10;

interface StoredSimNode {
  hostname: string;
  credential: string;
  nodeId: string;
}

export async function startDemoSimulatedFleet(opts: {
  dataDir: string;
  serverUrl: string;
  databaseUrl: string;
  nodes: number;
  say: (msg: string) => void;
}): Promise<() => Promise<void>> {
  const prisma = createPrismaClient(opts.databaseUrl, { max: 2 });
  const statePath = path.join(opts.dataDir, 'sim-fleet.json');
  try {
    const site = await prisma.site.findUnique({ where: { name: SIM_FLEET_SITE }, select: { id: true } });
    if (!site) {
      opts.say(`demo: site ${SIM_FLEET_SITE} is gone; no simulated fleet`);
      return async () => undefined;
    }
    const cluster = await prisma.cluster.upsert({
      where: { name: SIM_FLEET_CLUSTER },
      update: {},
      create: {
        name: SIM_FLEET_CLUSTER,
        siteId: site.id,
        description: `Simulated H200 fleet (FLEETPLANE_DEMO_FLEET_NODES): real enrollments and agent API traffic, no real agent processes`,
        servingEngine: 'vllm',
        engineVersion: '0.11.2',
        gpuHourlyCostUsd: 3.2,
      },
      select: { id: true },
    });
    const stored: StoredSimNode[] = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as StoredSimNode[]) : [];
    // Keep the credentials the database still accepts; enroll the rest.
    const live = new Map<string, StoredSimNode>();
    for (const s of stored) {
      const row = await prisma.nodeCredential.findUnique({
        where: { tokenHash: hashSecret(s.credential) },
        select: { revokedAt: true, nodeId: true },
      });
      if (row && !row.revokedAt && row.nodeId === s.nodeId) live.set(s.hostname, s);
    }
    const hostnames = Array.from({ length: opts.nodes }, (_, i) => `sim-h200-${String(i + 1).padStart(4, '0')}`);
    const missing = hostnames.filter((h) => !live.has(h));
    const requests = [];
    for (const hostname of missing) {
      const t = await createJoinToken(
        { prisma, actor: { type: 'system', id: null, label: 'npm start (simulated fleet)' } },
        { clusterId: cluster.id, expiresInMinutes: 10, description: `simulated node ${hostname}` },
      );
      requests.push({ hostname, joinToken: t.token });
    }
    const enrolled = await enrollSimulatedNodes(opts.serverUrl, requests, { gpuModel: SIM_GPU_MODELS.h200, gpusPerNode: GPUS_PER_NODE });
    for (const n of enrolled) live.set(n.hostname, { hostname: n.hostname, credential: n.credential, nodeId: n.nodeId });
    writeFileSync(statePath, JSON.stringify([...live.values()], null, 2), { mode: 0o600 });
    const nodes: SimNode[] = hostnames.map((hostname) => {
      const s = live.get(hostname)!;
      return {
        ...s,
        gpuModel: SIM_GPU_MODELS.h200,
        gpus: Array.from({ length: GPUS_PER_NODE }, (_, index) => ({
          uuid: simGpuUuid(hostname, index),
          index,
          pciBusId: simPciBusId(index),
          profile: simProfileFor(hostname, index, 2),
        })),
      };
    });
    const run = runSimulatedFleet(opts.serverUrl, nodes, { intervalSeconds: INTERVAL_SECONDS, engine: true, xidEveryIntervals: 60 });
    opts.say(
      `demo: simulated fleet of ${nodes.length} nodes × ${GPUS_PER_NODE} GPUs reporting every ${INTERVAL_SECONDS} s (cluster ${SIM_FLEET_CLUSTER})`,
    );
    return () => run.stop();
  } finally {
    await prisma.$disconnect();
  }
}
