// Artifacts stored the way a finished pipeline stores them (files on disk under `work`, the manifest rows,
// a ready artifact of a revision), for the tests of whatever serves or ships them: the artifact file
// service, the agent API's artifact route, and the real agent loading them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PrismaClient } from '@fleetplane/db';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { unique } from '../telemetry/test-support';

/**
 * An artifact whose files are on disk under `work` (a file:// store the artifact route serves), with its
 * manifest digest as the agent verifies it. A new tracked repo unless `trackedRepoId` is given.
 */
export async function makeStoredArtifact(
  prisma: PrismaClient,
  work: string,
  files: Record<string, Buffer>,
  opts: { trackedRepoId?: string } = {},
) {
  const dir = path.join(work, unique('store'));
  for (const [p, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), bytes);
  }
  const manifest = Object.entries(files).map(([p, b]) => ({
    path: p,
    sizeBytes: b.length,
    sha256: createHash('sha256').update(b).digest('hex'),
  }));
  let trackedRepoId = opts.trackedRepoId;
  if (!trackedRepoId) {
    const fam = await prisma.modelFamily.upsert({
      where: { slug: 'deepseek-v4-flash' },
      create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
      update: {},
    });
    const repo = await prisma.trackedRepo.create({
      data: { familyId: fam.id, hubRepoId: `deepseek-ai/${unique('V4')}`, filePatterns: ['*'] },
    });
    trackedRepoId = repo.id;
  }
  const revision = await prisma.modelRevision.create({
    data: { trackedRepoId, commitSha: randomBytes(20).toString('hex'), changeClass: 'initial' },
  });
  const digest = manifestDigest(manifest);
  const a = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: 'fp8',
      quantisation: 'FP8',
      sizeBytes: BigInt(manifest.reduce((n, f) => n + f.sizeBytes, 0)),
      digest,
      storageUri: pathToFileURL(dir).href,
      files: { createMany: { data: manifest.map((f) => ({ ...f, sizeBytes: BigInt(f.sizeBytes) })) } },
    },
  });
  return { id: a.id, digest, revisionId: revision.id, trackedRepoId, dir };
}
