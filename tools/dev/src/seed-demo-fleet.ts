// A realistic demo fleet built from public DeepSeek V4 self-hosting setups (see docs/demo-data.md).
// Idempotent: every row is upserted by its natural key, so re-running changes nothing.
import { createHash } from 'node:crypto';
import type { ArtifactFormat, Interconnect, PrismaClient, ServingEngine } from '@fleetplane/db';
import { NETWORK_POLICY_SETTING_KEY } from '@fleetplane/services/network/network-policy.service';
import { v4Config, type V4Variant } from '@fleetplane/fake-hub/content/model-files';
import { seedCapacityCatalogs } from '@fleetplane/services';
import { classifyChange, diffManifests } from '@fleetplane/domain/revisions/manifest-diff';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import { compilePatterns } from '@fleetplane/domain/revisions/match-patterns';
import { demoRepos, repoHistories, type HistoryCommit } from '@fleetplane/fake-hub';

const hex = (input: string, length = 64) => createHash('sha256').update(input).digest('hex').slice(0, length);

/** The commit's files the repo's patterns select, as the watcher's manifest has them (sha256 only for LFS files). */
export function watchedFiles(commit: HistoryCommit, patterns: string[]): TManifestFile[] {
  const matches = compilePatterns(patterns);
  return commit.files
    .filter((f) => matches(f.path))
    .map((f) => ({ path: f.path, sizeBytes: f.size, sha256: f.lfs ? f.sha256 : null, gitOid: f.oid, lfs: f.lfs }));
}

function gpuUuid(seed: string): string {
  const h = hex(seed, 32);
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface DemoCluster {
  name: string;
  site: string;
  description: string;
  engine: ServingEngine;
  engineVersion: string;
  servedModelName: string;
  maxContextTokens: number;
  gpuHourlyCostUsd: number;
  endpointPort: number;
  /** The hardware every node of the cluster has (a cluster is one kind of box). */
  node: {
    driver: string;
    cuda: string;
    gpuModel: string;
    memoryMib: number;
    count: number;
    interconnect: Interconnect;
  };
  /** The cluster's nodes, in order: the first is the one a one-node demo step talks about. */
  hosts: { hostname: string; ip: string }[];
  artifactKey: string;
  /** Pipeline download limits for runs into this cluster (files at once, total Mbit/s). */
  downloadLimits?: { files: number; mbps: number };
}

export const DEMO_SITES = [
  { name: 'fra-dc1', region: 'eu-central (Frankfurt)', dataResidency: 'eu' },
  { name: 'iad-dc2', region: 'us-east (Ashburn)', dataResidency: 'us' },
  { name: 'lab-onprem', region: 'on-prem lab', dataResidency: 'air-gapped' },
];

/** The first port of the demo's reference endpoints; cluster i listens on BASE + i. */
export const DEMO_ENDPOINT_BASE_PORT = 18100;

export const DEMO_CLUSTERS: DemoCluster[] = [
  {
    name: 'flash-h100-vllm',
    site: 'fra-dc1',
    description: 'Production V4-Flash (FP8, Hopper path) behind vLLM with tensor parallel 8.',
    engine: 'vllm',
    // At vLLM's V4 floor, so the capacity rules find its FP8 artifact compatible and the demo can propose upgrades.
    engineVersion: '0.20.0',
    servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
    maxContextTokens: 262144,
    gpuHourlyCostUsd: 2.49,
    endpointPort: DEMO_ENDPOINT_BASE_PORT,
    node: {
      driver: '580.95.05',
      cuda: '13.0',
      gpuModel: 'NVIDIA H100 80GB HBM3',
      memoryMib: 81559,
      count: 8,
      interconnect: 'nvswitch',
    },
    hosts: [{ hostname: 'h100-node-01', ip: '10.20.1.11' }],
    artifactKey: 'flash-fp8',
    // Re-downloads share the site's 10 GbE uplink with production traffic: leave it headroom.
    downloadLimits: { files: 4, mbps: 8000 },
  },
  {
    name: 'flash-h200-sglang',
    site: 'iad-dc2',
    description: 'Single-GPU V4-Flash on SGLang with RadixAttention prefix caching.',
    engine: 'sglang',
    engineVersion: '0.5.4',
    servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
    maxContextTokens: 131072,
    gpuHourlyCostUsd: 3.59,
    endpointPort: DEMO_ENDPOINT_BASE_PORT + 1,
    node: {
      driver: '580.95.05',
      cuda: '13.0',
      gpuModel: 'NVIDIA H200',
      memoryMib: 143771,
      count: 1,
      interconnect: 'pcie',
    },
    hosts: [{ hostname: 'h200-node-01', ip: '10.30.2.21' }],
    artifactKey: 'flash-native',
  },
  {
    name: 'pro-b200-vllm',
    site: 'fra-dc1',
    description: 'V4-Pro native FP4+FP8 on Blackwell (FP4 experts need B200).',
    engine: 'vllm',
    engineVersion: '0.11.2',
    servedModelName: 'deepseek-ai/DeepSeek-V4-Pro',
    maxContextTokens: 1048576,
    gpuHourlyCostUsd: 5.99,
    endpointPort: DEMO_ENDPOINT_BASE_PORT + 2,
    node: {
      driver: '580.95.05',
      cuda: '13.0',
      gpuModel: 'NVIDIA B200',
      memoryMib: 183359,
      count: 8,
      interconnect: 'nvswitch',
    },
    // Two 8x B200 boxes: V4-Pro is served by several such nodes, and a rollout here has a canary and a wave.
    hosts: [
      { hostname: 'b200-node-01', ip: '10.20.1.31' },
      { hostname: 'b200-node-02', ip: '10.20.1.32' },
    ],
    artifactKey: 'pro-native',
  },
  {
    name: 'lab-rtx5090-llamacpp',
    site: 'lab-onprem',
    description: 'Air-gapped lab box: V4-Flash GGUF Q4_K_M on llama.cpp, experts partly offloaded to host RAM.',
    engine: 'llamacpp',
    engineVersion: 'b6123',
    servedModelName: 'DeepSeek-V4-Flash-Q4_K_M',
    maxContextTokens: 65536,
    gpuHourlyCostUsd: 0.45,
    endpointPort: DEMO_ENDPOINT_BASE_PORT + 3,
    node: {
      driver: '580.95.05',
      cuda: '13.0',
      gpuModel: 'NVIDIA GeForce RTX 5090',
      memoryMib: 32607,
      count: 4,
      interconnect: 'pcie',
    },
    hosts: [{ hostname: 'lab-5090-01', ip: '192.168.50.10' }],
    artifactKey: 'flash-gguf-q4km',
  },
];

interface DemoRepo {
  family: string;
  hubRepoId: string;
  patterns: string[];
  targets: string[];
  /** Pipeline policy: start a run for every new weights/tokenizer revision without an operator. */
  autoStart: boolean;
  /** Demo clusters (by name) the auto-started runs download for; none = the default target. */
  autoStartClusters?: string[];
}

// The revision history of each repo is the demo Hub's own (tools/fake-hub demo-repos.ts: upload,
// chat-template fix, README edit), recorded as the watcher records it, so the first check after a
// fresh seed finds every repo unchanged: no "history rewritten" revision, no run started by itself.
export const DEMO_REPOS: DemoRepo[] = [
  {
    family: 'deepseek-v4-flash',
    hubRepoId: 'deepseek-ai/DeepSeek-V4-Flash',
    patterns: ['*.safetensors', 'model.safetensors.index.json', 'config.json', 'tokenizer*', 'generation_config.json'],
    targets: ['GGUF:Q4_K_M', 'GGUF:Q8_0'],
    // The main demo repo downloads new revisions by itself (publish in the dev panel and watch);
    // the others wait for an operator's "Start pipeline", so both policies are on show.
    autoStart: true,
    // Into the V4-Flash cluster's store, under its download limits (set them on the cluster's page), and the lab's
    // llama.cpp box: each run builds what its cluster needs (FP8 block-128 for Hopper + vLLM; GGUF Q8_0 and Q4_K_M).
    autoStartClusters: ['flash-h100-vllm', 'lab-rtx5090-llamacpp'],
  },
  {
    family: 'deepseek-v4-pro',
    hubRepoId: 'deepseek-ai/DeepSeek-V4-Pro',
    patterns: ['*.safetensors', 'model.safetensors.index.json', 'config.json', 'tokenizer*', 'generation_config.json'],
    targets: [],
    autoStart: false,
  },
  {
    family: 'deepseek-v4-flash',
    hubRepoId: 'sgl-project/DeepSeek-V4-Flash-FP8',
    patterns: ['*.safetensors', 'model.safetensors.index.json', 'config.json', 'tokenizer*'],
    targets: [],
    autoStart: false,
  },
  {
    family: 'deepseek-v4-flash',
    hubRepoId: 'unsloth/DeepSeek-V4-Flash-GGUF',
    patterns: ['*Q4_K_M*.gguf'],
    targets: [],
    autoStart: false,
  },
];

// `config`: the config.json the capacity planner reads (the demo hub serves the same body); the GGUF
// build keeps its source checkpoint's, since its metadata carries no V4 compress ratios.
// `servedBytes`: the published size of the checkpoint each demo cluster serves. The demo hub's files are
// miniatures (same names, layout and dtypes, a few MB), so the recorded artifact takes the real size the
// capacity planner and the cost page reason about, while its file list stays the hub's own.
const ARTIFACTS: Record<
  string,
  {
    repo: string;
    revisionIndex: number;
    format: ArtifactFormat;
    quantisation: string;
    requirements: Record<string, string>;
    config: V4Variant;
    servedBytes: bigint;
  }
> = {
  'flash-fp8': {
    repo: 'sgl-project/DeepSeek-V4-Flash-FP8',
    revisionIndex: 1,
    format: 'fp8',
    quantisation: 'FP8',
    requirements: { vllm: '0.11.0', sglang: '0.5.3' },
    config: 'flash-fp8',
    servedBytes: 59n * 4_820_001_024n,
  },
  'flash-native': {
    repo: 'deepseek-ai/DeepSeek-V4-Flash',
    revisionIndex: 1,
    format: 'fp4_fp8',
    quantisation: 'FP4+FP8',
    requirements: { vllm: '0.11.0', sglang: '0.5.3' },
    config: 'flash',
    servedBytes: 46n * 3_476_000_000n,
  },
  'pro-native': {
    repo: 'deepseek-ai/DeepSeek-V4-Pro',
    revisionIndex: 1,
    format: 'fp4_fp8',
    quantisation: 'FP4+FP8',
    requirements: { vllm: '0.11.0' },
    config: 'pro',
    servedBytes: 163n * 5_300_000_000n,
  },
  'flash-gguf-q4km': {
    repo: 'unsloth/DeepSeek-V4-Flash-GGUF',
    revisionIndex: 1,
    format: 'gguf',
    quantisation: 'Q4_K_M',
    requirements: { llamacpp: 'b6100' },
    config: 'flash',
    servedBytes: 4n * 43_700_000_000n,
  },
};

export const DEMO_FAMILIES = [
  {
    slug: 'deepseek-v4-flash',
    name: 'DeepSeek V4 Flash',
    totalParamsB: 284,
    activeParamsB: 13,
    contextLength: 1_048_576,
    apiPriceInputPerM: 0.14,
    apiPriceOutputPerM: 0.28,
    apiPriceCacheHitPerM: 0.0028,
  },
  {
    slug: 'deepseek-v4-pro',
    name: 'DeepSeek V4 Pro',
    totalParamsB: 1600,
    activeParamsB: 49,
    contextLength: 1_048_576,
    apiPriceInputPerM: 0.435,
    apiPriceOutputPerM: 0.87,
    apiPriceCacheHitPerM: 0.0036,
  },
];

/**
 * The artifact of kind `key` (format, quantisation, requirements, config as ARTIFACTS says) built from a recorded
 * revision: its weight files are the revision's LFS files, its digest their manifest's. Idempotent by digest. The
 * seed records one per cluster; the e2e world records one for a revision published on the Hub afterwards.
 */
export async function recordDemoArtifact(prisma: PrismaClient, key: string, revisionId: string): Promise<{ id: string; digest: string }> {
  const a = ARTIFACTS[key];
  if (!a) throw new Error(`No demo artifact kind ${key}`);
  const files = await prisma.revisionFile.findMany({ where: { revisionId }, orderBy: { path: 'asc' } });
  const weightFiles = files.filter((f) => f.sha256);
  const manifest = weightFiles.map((f) => `${f.path}\t${f.sizeBytes}\t${f.sha256}\n`).join('');
  // Bare hex, as manifestDigest (packages/domain) computes it: the agent wire contract refuses anything else.
  const digest = hex(manifest);
  const artifact = await prisma.artifact.upsert({
    where: { digest },
    create: {
      revisionId,
      format: a.format,
      quantisation: a.quantisation,
      sizeBytes: a.servedBytes,
      digest,
      storageUri: `file:///srv/fleetplane/artifacts/${a.repo.replace('/', '--')}/${key}`,
      requirements: a.requirements,
      files: { create: weightFiles.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes, sha256: f.sha256! })) },
    },
    update: {},
  });
  await prisma.artifactModelConfig.upsert({
    where: { artifactId: artifact.id },
    create: { artifactId: artifact.id, source: 'config.json', body: v4Config(a.config) as object },
    update: {},
  });
  return { id: artifact.id, digest };
}

export interface SeedOptions {
  /** Base URL the demo clusters' endpoints live at (the reference endpoints `npm start` runs). */
  endpointHost?: string;
}

/**
 * The demo's Hub, inference endpoints and webhook receiver run on loopback, which the network policy
 * refuses unless an admin allows it: the demo allows it. Created only when missing, so an admin who
 * turned it off (Admin › Settings) keeps that choice across restarts.
 */
export async function allowDemoLoopback(prisma: PrismaClient): Promise<void> {
  await prisma.setting.upsert({
    where: { key: NETWORK_POLICY_SETTING_KEY },
    create: { key: NETWORK_POLICY_SETTING_KEY, value: { allowLoopback: true } },
    update: {},
  });
}

export async function seedDemoFleet(prisma: PrismaClient, options: SeedOptions = {}) {
  const host = options.endpointHost ?? '127.0.0.1';
  await allowDemoLoopback(prisma);
  // The migration inserted the baseline catalogs; this adds any default added since, never overwriting edits.
  await seedCapacityCatalogs(prisma);
  const sites = new Map<string, string>();
  for (const s of DEMO_SITES) {
    const site = await prisma.site.upsert({ where: { name: s.name }, create: s, update: {} });
    sites.set(s.name, site.id);
  }

  const families = new Map<string, string>();
  for (const f of DEMO_FAMILIES) {
    const fam = await prisma.modelFamily.upsert({ where: { slug: f.slug }, create: f, update: {} });
    families.set(f.slug, fam.id);
  }

  const revisionsByRepo = new Map<string, string[]>();
  const histories = await repoHistories(demoRepos());
  for (const r of DEMO_REPOS) {
    const repo = await prisma.trackedRepo.upsert({
      where: { hubRepoId_branch: { hubRepoId: r.hubRepoId, branch: 'main' } },
      create: {
        familyId: families.get(r.family)!,
        hubRepoId: r.hubRepoId,
        branch: 'main',
        filePatterns: r.patterns,
        targets: r.targets,
        status: 'ok',
        autoStartPipelines: r.autoStart,
      },
      update: {},
    });
    const history = histories.get(r.hubRepoId);
    if (!history?.length) throw new Error(`The demo hub has no repo ${r.hubRepoId}`);
    const ids: string[] = [];
    let previous: { id: string; files: TManifestFile[] } | null = null;
    for (const commit of history) {
      const files = watchedFiles(commit, r.patterns);
      // Classified and diffed as the watcher does (repo-check.service.ts recordRevision).
      const d = previous ? diffManifests(previous.files, files) : null;
      const total = files.reduce((sum, f) => sum + f.sizeBytes, 0);
      const revision: { id: string } = await prisma.modelRevision.upsert({
        where: { trackedRepoId_commitSha: { trackedRepoId: repo.id, commitSha: commit.sha } },
        create: {
          trackedRepoId: repo.id,
          commitSha: commit.sha,
          commitTitle: commit.title,
          committedAt: new Date(commit.date),
          detectedAt: new Date(commit.date),
          previousRevisionId: previous?.id ?? null,
          changeClass: d ? classifyChange(d) : 'initial',
          diff: d
            ? { added: d.added.map((f) => f.path), removed: d.removed.map((f) => f.path), changed: d.changed.map((c) => c.path) }
            : { added: files.map((f) => f.path), removed: [], changed: [] },
          bytesToFetch: BigInt(d ? d.bytesToFetch : total),
          totalBytes: BigInt(total),
          files: {
            createMany: { data: files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.sizeBytes), sha256: f.sha256, gitOid: f.gitOid })) },
          },
        },
        update: {},
      });
      previous = { id: revision.id, files };
      ids.push(revision.id);
    }
    const head = history[history.length - 1]!;
    await prisma.trackedRepo.update({
      where: { id: repo.id },
      data: { lastSeenSha: repo.lastSeenSha ?? head.sha, lastCheckedAt: repo.lastCheckedAt ?? new Date(head.date) },
    });
    revisionsByRepo.set(r.hubRepoId, ids);
  }

  const artifacts = new Map<string, string>();
  for (const [key, a] of Object.entries(ARTIFACTS)) {
    artifacts.set(key, (await recordDemoArtifact(prisma, key, revisionsByRepo.get(a.repo)![a.revisionIndex]!)).id);
  }

  for (const c of DEMO_CLUSTERS) {
    const cluster = await prisma.cluster.upsert({
      where: { name: c.name },
      create: {
        name: c.name,
        siteId: sites.get(c.site)!,
        description: c.description,
        servingEngine: c.engine,
        engineVersion: c.engineVersion,
        endpointUrl: `http://${host}:${c.endpointPort}`,
        servedModelName: c.servedModelName,
        maxContextTokens: c.maxContextTokens,
        gpuHourlyCostUsd: c.gpuHourlyCostUsd,
        downloadConcurrency: c.downloadLimits?.files ?? null,
        downloadBandwidthMbps: c.downloadLimits?.mbps ?? null,
      },
      update: {},
    });
    for (const h of c.hosts) {
      const node = await prisma.node.upsert({
        where: { clusterId_hostname: { clusterId: cluster.id, hostname: h.hostname } },
        create: {
          clusterId: cluster.id,
          hostname: h.hostname,
          ipAddress: h.ip,
          driverVersion: c.node.driver,
          cudaVersion: c.node.cuda,
          labels: { rack: c.site === 'lab-onprem' ? 'bench' : 'r12' },
        },
        update: {},
      });
      for (let i = 0; i < c.node.count; i += 1) {
        await prisma.gpu.upsert({
          where: { uuid: gpuUuid(`${h.hostname}/${i}`) },
          create: {
            nodeId: node.id,
            uuid: gpuUuid(`${h.hostname}/${i}`),
            index: i,
            model: c.node.gpuModel,
            memoryMib: c.node.memoryMib,
            interconnect: c.node.interconnect,
            pciBusId: `00000000:${(0x18 + i * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
          },
          update: {},
        });
      }
    }
    const artifactId = artifacts.get(c.artifactKey)!;
    const existing = await prisma.deployment.findFirst({ where: { clusterId: cluster.id, artifactId, state: 'active' } });
    if (!existing)
      await prisma.deployment.create({
        data: { clusterId: cluster.id, artifactId, state: 'active', startedAt: new Date('2026-06-10T08:00:00Z') },
      });
  }
  for (const r of DEMO_REPOS) {
    if (!r.autoStartClusters?.length) continue;
    const repo = await prisma.trackedRepo.findUniqueOrThrow({ where: { hubRepoId_branch: { hubRepoId: r.hubRepoId, branch: 'main' } } });
    const clusters = await prisma.cluster.findMany({ where: { name: { in: r.autoStartClusters } }, select: { id: true } });
    await prisma.trackedRepoAutoStartTarget.createMany({
      data: clusters.map((c) => ({ trackedRepoId: repo.id, clusterId: c.id })),
      skipDuplicates: true,
    });
  }
  return { clusters: DEMO_CLUSTERS.length, nodes: demoNodes().length, repos: DEMO_REPOS.length, artifacts: artifacts.size };
}

/** Every seeded node with its cluster and its place in the cluster (0 = the cluster's first node). */
export function demoNodes(): { cluster: DemoCluster; clusterIndex: number; hostname: string; ip: string; nodeIndex: number }[] {
  return DEMO_CLUSTERS.flatMap((cluster, clusterIndex) =>
    cluster.hosts.map((h, nodeIndex) => ({ cluster, clusterIndex, hostname: h.hostname, ip: h.ip, nodeIndex })),
  );
}

export function demoGpuUuid(hostname: string, index: number): string {
  return gpuUuid(`${hostname}/${index}`);
}
