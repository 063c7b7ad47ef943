// The demo fleet serving its deployments for real. The seeded artifacts record checkpoints the demo Hub hosts
// (same paths, sizes and sha256) but have no bytes on the control plane, so no agent could load one. Here an
// artifact's files are fetched from the Hub into the data directory (each verified against its sha256) and
// the artifact points there; then a node's active deployment is loaded through a load_artifact command like
// any rollout's, and we wait until the agent itself reports the engine serving that digest.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createPrismaClient } from '@fleetplane/db';
import {
  artifactDirectory,
  artifactRefFor,
  engineLaunchSpecFor,
  issueNodeCommand,
  safeArtifactFilePath,
  waitForNodeCommand,
} from '@fleetplane/services';
import type { FakeHub } from '@fleetplane/fake-hub';
import { recordDemoArtifact } from './seed-demo-fleet';

type Prisma = ReturnType<typeof createPrismaClient>;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Waits until every host's agent has reported since `since` (telemetry: last seen) and told what its engine
 * does (node state): from then on the dashboard shows these nodes as a live agent sees them.
 */
export async function waitForAgentsReporting(prisma: Prisma, hosts: string[], since: Date, timeoutMs: number): Promise<void> {
  await until(`the agents on ${hosts.join(', ')} to report`, timeoutMs, async () => {
    const nodes = await prisma.node.findMany({
      where: { hostname: { in: hosts }, lastSeenAt: { gte: since }, runtimeState: { observedAt: { gte: since } } },
      select: { id: true },
    });
    return nodes.length === hosts.length;
  });
}

/** Fetches the artifact's files from the Hub's commit into `<dataDir>/artifacts/seeded/<digest>/` unless they are stored already. */
export async function storeSeededArtifactFiles(
  prisma: Prisma,
  opts: { artifactId: string; hubUrl: string; dataDir: string },
): Promise<void> {
  const artifact = await prisma.artifact.findUniqueOrThrow({
    where: { id: opts.artifactId },
    select: {
      digest: true,
      storageUri: true,
      files: { select: { path: true, sha256: true } },
      revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
    },
  });
  const stored = artifactDirectory(artifact.storageUri);
  if (stored && artifact.files.every((f) => existsSync(path.join(stored, f.path)))) return;
  const dir = path.join(opts.dataDir, 'artifacts', 'seeded', artifact.digest);
  const { hubRepoId } = artifact.revision.trackedRepo;
  for (const f of artifact.files) {
    const target = safeArtifactFilePath(dir, f.path);
    if (!target) throw new Error(`${hubRepoId}: unsafe artifact path ${f.path}`);
    if (existsSync(target)) continue;
    await mkdir(path.dirname(target), { recursive: true });
    const url = `${opts.hubUrl}/${hubRepoId}/resolve/${artifact.revision.commitSha}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const hash = createHash('sha256');
    const partial = `${target}.partial`;
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(partial),
    );
    const actual = hash.digest('hex');
    if (actual !== f.sha256) {
      await rm(partial, { force: true });
      throw new Error(`${hubRepoId}/${f.path}: sha256 ${actual} is not the recorded ${f.sha256}`);
    }
    await rename(partial, target);
  }
  await prisma.artifact.update({ where: { id: opts.artifactId }, data: { storageUri: pathToFileURL(dir).href } });
}

export interface ServeDeploymentsOptions {
  databaseUrl: string;
  hubUrl: string;
  dataDir: string;
  /** Nodes (by hostname) whose agents run; each loads its cluster's active deployment. */
  hosts: string[];
  /** The commands' origin on the node page's history. */
  origin: string;
  timeoutMs: number;
}

/** Each host's engine serves its cluster's active deployment; resolves with the digest each one serves. */
export async function serveActiveDeployments(opts: ServeDeploymentsOptions): Promise<{ host: string; digest: string }[]> {
  const prisma = createPrismaClient(opts.databaseUrl, { max: 2 });
  try {
    const served: { host: string; digest: string }[] = [];
    for (const host of opts.hosts) {
      const node = await prisma.node.findFirstOrThrow({ where: { hostname: host }, select: { id: true, clusterId: true } });
      const deployment = await prisma.deployment.findFirst({
        where: { clusterId: node.clusterId, state: 'active' },
        orderBy: { startedAt: 'desc' },
        select: { artifact: { select: { id: true, digest: true } } },
      });
      if (!deployment) throw new Error(`${host}: its cluster has no active deployment to serve`);
      const { artifact } = deployment;
      await storeSeededArtifactFiles(prisma, { artifactId: artifact.id, hubUrl: opts.hubUrl, dataDir: opts.dataDir });
      const command = await issueNodeCommand(prisma, {
        nodeId: node.id,
        command: {
          kind: 'load_artifact',
          payload: {
            artifact: await artifactRefFor(prisma, artifact.id),
            launch: await engineLaunchSpecFor(prisma, { nodeId: node.id, artifactId: artifact.id }),
            bandwidthMbps: null,
          },
        },
        origin: opts.origin,
        artifactId: artifact.id,
        dedupeKey: `${opts.origin}:${node.id}:${artifact.id}`,
      });
      const outcome = await waitForNodeCommand(prisma, command.id, { timeoutMs: opts.timeoutMs });
      if (outcome.state !== 'succeeded') throw new Error(`${host}: loading its deployment ended ${outcome.state}: ${outcome.error ?? ''}`);
      await until(`${host} to report its engine serving ${artifact.digest.slice(0, 12)}`, opts.timeoutMs, async () => {
        const rs = await prisma.nodeRuntimeState.findUnique({
          where: { nodeId: node.id },
          select: { engineState: true, servedArtifactDigest: true },
        });
        return rs?.engineState === 'ready' && rs.servedArtifactDigest === artifact.digest;
      });
      served.push({ host, digest: artifact.digest });
    }
    return served;
  } finally {
    await prisma.$disconnect();
  }
}

export interface NewerArtifactOptions {
  databaseUrl: string;
  hub: FakeHub;
  /** The tracked repo (e.g. deepseek-ai/DeepSeek-V4-Pro) and the demo artifact kind its clusters serve (pro-native). */
  hubRepoId: string;
  artifactKey: string;
  dataDir: string;
  timeoutMs: number;
}

/**
 * A newer artifact of a tracked repo, as an upgrade to roll out: new weights are published on the Hub (the demo's
 * "Publish new weights"), the control plane's watcher records the revision (Hub webhook → repo check), and the
 * artifact of that revision is recorded like the seeded ones, its files fetched from the Hub and sha256-verified
 * into the data directory, from where agents download and verify them again. Resolves once it is ready.
 */
export async function publishNewerArtifact(
  opts: NewerArtifactOptions,
): Promise<{ artifactId: string; digest: string; commitSha: string; title: string }> {
  const prisma = createPrismaClient(opts.databaseUrl, { max: 2 });
  try {
    const published = await opts.hub.publishDemo(opts.hubRepoId, 'weights');
    const revision = await until(`the watcher to record ${opts.hubRepoId}@${published.sha.slice(0, 7)}`, opts.timeoutMs, () =>
      prisma.modelRevision.findFirst({
        where: { commitSha: published.sha, trackedRepo: { hubRepoId: opts.hubRepoId } },
        select: { id: true },
      }),
    );
    const artifact = await recordDemoArtifact(prisma, opts.artifactKey, revision.id);
    await storeSeededArtifactFiles(prisma, { artifactId: artifact.id, hubUrl: opts.hub.url, dataDir: opts.dataDir });
    return { artifactId: artifact.id, digest: artifact.digest, commitSha: published.sha, title: published.title };
  } finally {
    await prisma.$disconnect();
  }
}
