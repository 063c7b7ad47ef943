// Rows a validate-stage test needs: a cluster with a staging node that reports, a revision with two
// artifacts (the one the cluster serves, and a candidate) and a pipeline run with its validate step.
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@fleetplane/db';

const hex = (n: number) => randomBytes(n).toString('hex');

export async function seedStagingScene(prisma: PrismaClient, opts: { suiteName: string; staging?: boolean; deployed?: boolean }) {
  const site = await prisma.site.create({ data: { name: `site-${hex(4)}`, region: 'eu', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: {
      name: `c-${hex(4)}`,
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      endpointUrl: 'http://127.0.0.1:9',
      servedModelName: 'cluster-model',
      gatingSuiteName: opts.suiteName,
      validationConcurrencyCap: 4,
    },
  });
  const node = await prisma.node.create({
    data: { clusterId: cluster.id, hostname: `stage-${hex(3)}`, health: 'healthy', lastSeenAt: new Date(), reportIntervalSeconds: 3600 },
  });
  if (opts.staging !== false) await prisma.cluster.update({ where: { id: cluster.id }, data: { stagingNodeId: node.id } });
  const family = await prisma.modelFamily.create({
    data: { slug: `f-${hex(4)}`, name: 'V4-Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId: `deepseek-ai/t-${hex(3)}`, filePatterns: ['*'] },
  });
  const artifact = async (sha: string) => {
    const revision = await prisma.modelRevision.create({ data: { trackedRepoId: repo.id, commitSha: sha, changeClass: 'weights' } });
    const a = await prisma.artifact.create({
      data: {
        revisionId: revision.id,
        format: 'safetensors',
        quantisation: 'FP8',
        sizeBytes: 4n,
        digest: hex(32),
        storageUri: `file:///nonexistent/${sha}`,
        files: { create: [{ path: 'config.json', sizeBytes: 4n, sha256: hex(32) }] },
      },
    });
    return { revision, artifact: a };
  };
  const serving = await artifact(hex(20));
  const candidate = await artifact(hex(20));
  if (opts.deployed !== false)
    await prisma.deployment.create({ data: { clusterId: cluster.id, artifactId: serving.artifact.id, state: 'active' } });
  const run = await prisma.pipelineRun.create({
    data: { revisionId: candidate.revision.id, targetKey: cluster.id, trigger: 'auto', state: 'running' },
  });
  const step = await prisma.pipelineStep.create({
    data: { runId: run.id, kind: 'validate', targetKey: 'upstream', position: 1, state: 'running' },
  });
  return { cluster, node, serving: serving.artifact, candidate: candidate.artifact, run, step };
}
