// The living demo: one REAL agent process per seeded node, each enrolled with a one-time join token and
// reading the stand-in nvidia-smi configured with that node's exact GPU UUIDs and PCI slots. Health and
// utilisation on the dashboard then come from the same path a real fleet uses: agent → agent API →
// Postgres → health job. State (credentials, disk queues, fake kernel logs) lives under .data/agents/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FAKE_NVIDIA_SMI_BIN, fakeNvidiaSmiEnv, writeFakeNvidiaSmiConfig, type TFakeGpuProfile } from '@fleetplane/fake-nvidia-smi';
import { createPrismaClient } from '@fleetplane/db';
import { createJoinToken, hashSecret } from '@fleetplane/services';
import { demoGpuUuid, demoNodes } from './seed-demo-fleet';
import { freePort } from './local-net';
import type { ProcessGroup } from './process-group';

/** The faults a new user should see: a throttling GPU, an ECC error, a hot card and occasional XIDs. */
export const DEMO_GPU_PROFILES: Record<string, Partial<Record<number, TFakeGpuProfile>>> = {
  'h100-node-01': { 3: 'throttled', 5: 'xid' },
  'b200-node-01': { 2: 'ecc-error', 6: 'hot' },
  'lab-5090-01': { 2: 'idle', 3: 'idle' },
};

/** Seconds between collections: twice the production default so the dashboard visibly moves. */
export const DEMO_AGENT_INTERVAL_SECONDS = 5;
/**
 * Each demo agent runs its engine on DEMO_ENGINE_BASE_PORT + the cluster's index + 10 × the node's place in its
 * cluster (b200-node-01 18202, b200-node-02 18212): one machine, distinct ports.
 */
export const DEMO_ENGINE_BASE_PORT = 18200;

export const demoEnginePort = (clusterIndex: number, nodeIndex: number): number => DEMO_ENGINE_BASE_PORT + clusterIndex + 10 * nodeIndex;

/**
 * What a vLLM-like stand-in sizes its KV cache from (tools/reference-endpoint kv-profile.ts): the tensor-parallel
 * size, the GPUs (the stand-in nvidia-smi the agent reads, found through the environment the engine inherits), and,
 * because the demo Hub's checkpoints are miniatures, the config.json and byte size of the real checkpoint they stand
 * for (the artifact's recorded `artifact_model_config` and `size_bytes`).
 */
export interface DemoEngineModel {
  tensorParallelSize: number;
  hfConfigPath: string;
  weightsBytes: bigint;
}

/**
 * The demo's engine: the reference endpoint from tools/, speaking the cluster's engine dialect and serving
 * the artifact directory the agent fills in. Set as the cluster's launch template when it has none (or has an
 * earlier one the demo wrote), so a load_artifact command (staging validation, rollouts, the node page) starts a
 * live engine on the node. vLLM and NIM also get vLLM's own flags (the V4 recipe's 256-token blocks and FP8 cache).
 */
export function demoEngineLaunchTemplate(root: string, engine: string, servedModelName: string, model?: DemoEngineModel): string {
  const base = demoEngineCommand(root);
  const sizing =
    model && (engine === 'vllm' || engine === 'nim')
      ? ` --tensor-parallel-size ${model.tensorParallelSize} --block-size 256 --kv-cache-dtype fp8 --nvidia-smi ${FAKE_NVIDIA_SMI_BIN} --hf-config-path ${model.hfConfigPath} --weights-bytes ${model.weightsBytes}`
      : '';
  return `${base} --engine ${engine} --artifact-dir {artifact_dir} --host {host} --port {port} --served-model-name ${servedModelName}${sizing}`;
}

/** How every demo launch template starts: a template that starts so was written by the demo and may be refreshed. */
function demoEngineCommand(root: string): string {
  return `${process.execPath} --import tsx ${path.join(root, 'tools/reference-endpoint/src/cli.ts')} serve`;
}

/** The real checkpoint behind the cluster's active deployment, written where the stand-in reads its config.json. */
async function demoEngineModel(
  prisma: ReturnType<typeof createPrismaClient>,
  clusterId: string,
  dir: string,
  gpuCount: number,
): Promise<DemoEngineModel | undefined> {
  const deployment = await prisma.deployment.findFirst({
    where: { clusterId, state: 'active' },
    orderBy: { startedAt: 'desc' },
    select: { artifact: { select: { sizeBytes: true, modelConfig: { select: { body: true, source: true } } } } },
  });
  const artifact = deployment?.artifact;
  if (!artifact?.modelConfig || artifact.modelConfig.source !== 'config.json') return undefined;
  const hfConfigPath = path.join(dir, 'engine-model', 'config.json');
  mkdirSync(path.dirname(hfConfigPath), { recursive: true });
  writeFileSync(hfConfigPath, JSON.stringify(artifact.modelConfig.body, null, 2));
  return { tensorParallelSize: gpuCount, hfConfigPath, weightsBytes: artifact.sizeBytes };
}

/** One Xid burst per this many seconds on the `xid` GPU (alternating XID 13 and XID 79). */
const DEMO_XID_INTERVAL_SECONDS = 120;

const POWER_LIMIT_W: [RegExp, number][] = [
  [/B200/i, 1000],
  [/H100|H200/i, 700],
  [/RTX 5090/i, 575],
];

/** The same slots seed-demo-fleet.ts gives the seeded GPUs. */
export function demoPciBusId(index: number): string {
  return `00000000:${(0x18 + index * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`;
}

export interface DemoAgentsOptions {
  root: string;
  dataDir: string;
  /** The web app as the agents reach it. */
  serverUrl: string;
  databaseUrl: string;
  group: ProcessGroup;
  env: NodeJS.ProcessEnv;
  say: (msg: string) => void;
  /** Only these seeded nodes get an agent (default: every one). */
  hosts?: string[];
  /**
   * `demo`: DEMO_ENGINE_BASE_PORT + the cluster's index (what the dashboard's docs name). `free`: a port the OS
   * picks, so a second world on the machine (the e2e suite beside `npm start`) never collides with the demo's.
   */
  enginePorts?: 'demo' | 'free';
  /**
   * Point each agent's engine scrape at the demo reference endpoint on the cluster's seeded port when one answers
   * (`npm start` runs them). Off where those ports belong to another world (e2e beside a running demo).
   */
  scrapeDemoEndpoints?: boolean;
  /**
   * Point each agent's engine scrape at the engine it runs itself (its --engine-port), so rollout analysis
   * measures that engine (the e2e world, whose specs send it traffic and degrade it). Wins over scrapeDemoEndpoints.
   */
  scrapeOwnEngines?: boolean;
  /** Who minted the join tokens, as the audit log shows it. */
  actorLabel?: string;
}

function agentCommand(root: string): { command: string; args: string[] } {
  const bundle = path.join(root, 'apps/agent/dist/fleetplane-agent.mjs');
  if (existsSync(bundle)) return { command: process.execPath, args: [bundle] };
  return { command: process.execPath, args: ['--import', 'tsx', path.join(root, 'apps/agent/src/index.ts')] };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

async function metricsUrlFor(port: number): Promise<string | undefined> {
  // The agent scrapes vLLM-style /metrics when a demo endpoint runs there; without one it reports GPUs only.
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return res.ok ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Enrolls (once; the credential is kept under .data/agents/<host>/) and starts one agent per seeded
 * node. A stored credential the database no longer accepts (a reset database) is replaced by a fresh
 * enrollment, so a restart never leaves an agent knocking with a dead credential.
 */
export async function startDemoFleetAgents(opts: DemoAgentsOptions): Promise<{ started: string[] }> {
  const prisma = createPrismaClient(opts.databaseUrl, { max: 2 });
  const started: string[] = [];
  const agent = agentCommand(opts.root);
  try {
    for (const { cluster: c, clusterIndex, hostname: host, nodeIndex } of demoNodes()) {
      if (opts.hosts && !opts.hosts.includes(host)) continue;
      const cluster = await prisma.cluster.findUnique({ where: { name: c.name }, select: { id: true, engineLaunchTemplate: true } });
      if (!cluster) {
        opts.say(`demo: cluster ${c.name} no longer exists; no agent for ${host}`);
        continue;
      }
      const dir = path.join(opts.dataDir, 'agents', host);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // A template the demo wrote earlier is refreshed (so the engine gets what it sizes its KV cache from); an
      // operator's own template is left alone.
      const template = cluster.engineLaunchTemplate;
      if (template === null || template.startsWith(demoEngineCommand(opts.root))) {
        const model = await demoEngineModel(prisma, cluster.id, dir, c.node.count);
        const wanted = demoEngineLaunchTemplate(opts.root, c.engine, c.servedModelName, model);
        if (wanted !== template) await prisma.cluster.update({ where: { id: cluster.id }, data: { engineLaunchTemplate: wanted } });
      }
      const smiConfig = path.join(dir, 'nvidia-smi.json');
      const kernelLog = path.join(dir, 'kern.log');
      const credentialPath = path.join(dir, 'agent.json');
      if (!existsSync(kernelLog)) writeFileSync(kernelLog, '');
      const limit = POWER_LIMIT_W.find(([re]) => re.test(c.node.gpuModel))?.[1] ?? 700;
      writeFakeNvidiaSmiConfig(smiConfig, {
        node: host,
        driverVersion: c.node.driver,
        cudaVersion: c.node.cuda,
        kernelLogPath: kernelLog,
        stateDir: path.join(dir, 'fake-state'),
        xidIntervalSeconds: DEMO_XID_INTERVAL_SECONDS,
        gpus: Array.from({ length: c.node.count }, (_, i) => ({
          uuid: demoGpuUuid(host, i),
          name: c.node.gpuModel,
          memoryTotalMib: c.node.memoryMib,
          pciBusId: demoPciBusId(i),
          powerLimitW: limit,
          profile: DEMO_GPU_PROFILES[host]?.[i] ?? 'busy',
        })),
      });
      // An agent on a real node knows nothing of the control plane's secrets: give it a bare environment.
      const env = {
        PATH: opts.env.PATH ?? '',
        HOME: opts.env.HOME ?? '',
        ...fakeNvidiaSmiEnv(smiConfig),
        FLEETPLANE_AGENT_LOG_LEVEL: 'warn',
      };

      if (!(await credentialIsLive(prisma, credentialPath, host))) {
        const token = await createJoinToken(
          { prisma, actor: { type: 'system', id: null, label: opts.actorLabel ?? 'npm start (demo fleet)' } },
          { clusterId: cluster.id, expiresInMinutes: 5, description: `demo agent on ${host}` },
        );
        const enrolled = await run(
          agent.command,
          [
            ...agent.args,
            'enroll',
            '--server',
            opts.serverUrl,
            '--token',
            token.token,
            '--credential-path',
            credentialPath,
            '--hostname',
            host,
            '--nvidia-smi',
            FAKE_NVIDIA_SMI_BIN,
            '--force',
          ],
          env,
        );
        if (enrolled.code !== 0) {
          opts.say(`demo: enrolling the agent on ${host} failed (exit ${enrolled.code}): ${enrolled.output.trim().slice(0, 500)}`);
          continue;
        }
      }
      const enginePort = opts.enginePorts === 'free' ? await freePort() : demoEnginePort(clusterIndex, nodeIndex);
      const metricsUrl = opts.scrapeOwnEngines
        ? `http://127.0.0.1:${enginePort}/metrics`
        : opts.scrapeDemoEndpoints === false
          ? undefined
          : await metricsUrlFor(c.endpointPort);
      const args = [
        ...agent.args,
        'run',
        '--credential-path',
        credentialPath,
        '--queue-dir',
        path.join(dir, 'queue'),
        '--nvidia-smi',
        FAKE_NVIDIA_SMI_BIN,
        '--kernel-log',
        kernelLog,
        '--hostname',
        host,
        '--interval',
        String(DEMO_AGENT_INTERVAL_SECONDS),
        // The engine (started by load_artifact) and its model cache live beside the agent's state.
        '--state-dir',
        dir,
        '--cache-dir',
        path.join(dir, 'model-cache'),
        '--engine-bind-host',
        '127.0.0.1',
        '--engine-port',
        String(enginePort),
        ...(metricsUrl ? ['--metrics-url', metricsUrl] : []),
      ];
      // Supervised like web and worker: an agent that dies is restarted, the control plane keeps running.
      // cwd = the repository: the engine (a child of the agent) resolves `--import tsx` from there.
      opts.group.start(`agent:${host}`, agent.command, args, { env, quiet: true, cwd: opts.root });
      started.push(host);
    }
  } finally {
    await prisma.$disconnect();
  }
  return { started };
}

async function credentialIsLive(prisma: ReturnType<typeof createPrismaClient>, credentialPath: string, hostname: string): Promise<boolean> {
  if (!existsSync(credentialPath)) return false;
  try {
    const stored = JSON.parse(readFileSync(credentialPath, 'utf8')) as { credential?: unknown };
    if (typeof stored.credential !== 'string') return false;
    const row = await prisma.nodeCredential.findUnique({
      where: { tokenHash: hashSecret(stored.credential) },
      select: { revokedAt: true, node: { select: { hostname: true } } },
    });
    return !!row && !row.revokedAt && row.node.hostname === hostname;
  } catch {
    return false;
  }
}

/**
 * Ends the engines the hosts' agents started. The agent's supervisor detaches its engine so it keeps serving
 * across agent restarts; a world that is torn down (the e2e run) ends each engine's process group by the pid
 * the supervisor recorded in its state file.
 */
export function stopAgentEngines(dataDir: string, hosts: string[]): void {
  for (const host of hosts) {
    try {
      const state = JSON.parse(readFileSync(path.join(dataDir, 'agents', host, 'engine-state.json'), 'utf8')) as { pid?: unknown };
      if (typeof state.pid === 'number' && state.pid > 0) process.kill(-state.pid, 'SIGTERM');
    } catch {
      // No engine was started, or it is gone already.
    }
  }
}
