// Which artifact file a node may have, against the real database and real files on disk: the access rule
// (another cluster's artifact is refused exactly like an unknown one until a command or proposal gives the
// node a reason), paths outside the manifest, a store that disagrees with the manifest; and the artifact
// reference commands carry. The HTTP side (ranges, ETag, HEAD, 401) is apps/web/src/server/agent-api.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZAgentError } from '@fleetplane/contracts';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { agentAnswer, makeNode, testDeps, type TestNode } from '../telemetry/test-support';
import { openArtifactFileForNode } from './artifact-files.service';
import { artifactRefFor } from './artifact-ref';
import { makeStoredArtifact } from './test-support';

const deps = testDeps();
const { prisma } = deps;
let storeDir: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const FILES = {
  'config.json': Buffer.from('{"model_type":"deepseek_v4"}'),
  'weights/model-00001-of-00001.safetensors': randomBytes(64 * 1024 + 17),
};

/** The node's answer for one file: 200 with its size and sha256 (the handle closed again), or the refusal. */
async function open(node: TestNode, artifactId: string, filePath: string | string[]) {
  const res = await agentAnswer(async () => {
    const file = await openArtifactFileForNode(
      prisma,
      { id: node.nodeId, clusterId: node.clusterId },
      { artifactId, path: Array.isArray(filePath) ? filePath : filePath.split('/') },
    );
    await file.handle.close();
    return { size: file.size, sha256: file.sha256 };
  });
  return { status: res.status, body: res.body, code: res.status === 200 ? null : ZAgentError.parse(res.body).error.code };
}

let nodeA: TestNode; // cluster 1, which deploys the artifact
let nodeB: TestNode; // cluster 2
let art: Awaited<ReturnType<typeof makeStoredArtifact>>;

beforeAll(async () => {
  storeDir = await mkdtemp(path.join(tmpdir(), 'fleetplane-artifact-files-'));
  nodeA = await makeNode(prisma, 0);
  nodeB = await makeNode(prisma, 0);
  art = await makeStoredArtifact(prisma, storeDir, FILES);
  await prisma.deployment.create({ data: { clusterId: nodeA.clusterId, artifactId: art.id, state: 'active' } });
});

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
  await rm(storeDir, { recursive: true, force: true });
});

describe('openArtifactFileForNode', () => {
  it("opens a file of the node's cluster's deployment, with its manifest size and sha256", async () => {
    const file = FILES['weights/model-00001-of-00001.safetensors'];
    expect(await open(nodeA, art.id, 'weights/model-00001-of-00001.safetensors')).toMatchObject({
      status: 200,
      body: { size: file.length, sha256: sha256(file) },
    });
  });

  it("refuses another cluster's artifact exactly like an unknown one, and paths outside the manifest", async () => {
    const other = await open(nodeB, art.id, 'config.json');
    const unknown = await open(nodeB, 'c-no-such-artifact', 'config.json');
    expect([other.status, other.code, unknown.status]).toEqual([404, 'not_found', 404]);
    expect(ZAgentError.parse(other.body).error.message.replace(art.id, 'X')).toBe(
      ZAgentError.parse(unknown.body).error.message.replace('c-no-such-artifact', 'X'),
    );
    expect((await open(nodeA, art.id, 'weights/missing.safetensors')).status).toBe(404);
    expect((await open(nodeA, art.id, ['..', '..', 'etc', 'passwd'])).status).toBe(404);
    expect((await open(nodeA, 'x'.repeat(65), 'config.json')).status).toBe(404);
  });

  it('lets a node fetch while an open command for it references the artifact, and not after it finished', async () => {
    const command = await prisma.nodeCommand.create({
      data: {
        nodeId: nodeB.nodeId,
        kind: 'prefetch_artifact',
        payload: { artifact: await artifactRefFor(prisma, art.id), bandwidthMbps: null },
        artifactId: art.id,
        origin: 'operator',
        deadlineAt: new Date(Date.now() + 3_600_000),
      },
    });
    expect((await open(nodeB, art.id, 'config.json')).status).toBe(200);
    await prisma.nodeCommand.update({ where: { id: command.id }, data: { state: 'running' } });
    expect((await open(nodeB, art.id, 'config.json')).status).toBe(200);
    await prisma.nodeCommand.update({ where: { id: command.id }, data: { state: 'succeeded', finishedAt: new Date() } });
    expect((await open(nodeB, art.id, 'config.json')).status).toBe(404);
  });

  it("lets a cluster's nodes prefetch its pending proposal's artifact, until the proposal is rejected", async () => {
    const proposal = await prisma.upgradeProposal.create({
      data: { clusterId: nodeB.clusterId, artifactId: art.id, artifactDigest: art.digest, expiresAt: new Date(Date.now() + 86_400_000) },
    });
    expect((await open(nodeB, art.id, 'config.json')).status).toBe(200);
    await prisma.upgradeProposal.update({ where: { id: proposal.id }, data: { state: 'rejected', decidedAt: new Date() } });
    expect((await open(nodeB, art.id, 'config.json')).status).toBe(404);
  });

  it('refuses (internal) a file whose size on disk differs from the manifest, or that is missing', async () => {
    const broken = await makeStoredArtifact(prisma, storeDir, { 'a.bin': randomBytes(1000), 'b.bin': randomBytes(10) });
    await prisma.deployment.create({ data: { clusterId: nodeA.clusterId, artifactId: broken.id, state: 'active' } });
    expect((await open(nodeA, broken.id, 'a.bin')).status).toBe(200);
    await truncate(path.join(broken.dir, 'a.bin'), 10);
    expect(await open(nodeA, broken.id, 'a.bin')).toMatchObject({ status: 500, code: 'internal' });
    await rm(path.join(broken.dir, 'b.bin'));
    expect(await open(nodeA, broken.id, 'b.bin')).toMatchObject({ status: 500, code: 'internal' });
  });
});

describe('artifactRefFor', () => {
  it('gives the manifest in path order with the artifact digest, valid against the wire contract', async () => {
    const ref = await artifactRefFor(prisma, art.id);
    expect(ref.id).toBe(art.id);
    expect(ref.digest).toBe(art.digest);
    expect(ref.label).toMatch(/^deepseek-ai\/V4-.+@[0-9a-f]{12} FP8$/);
    expect(ref.files.map((f) => f.path)).toEqual(['config.json', 'weights/model-00001-of-00001.safetensors']);
    expect(ref.files[1]).toEqual({
      path: 'weights/model-00001-of-00001.safetensors',
      sizeBytes: FILES['weights/model-00001-of-00001.safetensors'].length,
      sha256: sha256(FILES['weights/model-00001-of-00001.safetensors']),
    });
    expect(manifestDigest(ref.files)).toBe(ref.digest);
  });

  it('refuses unknown and unfinished artifacts', async () => {
    await expect(artifactRefFor(prisma, 'c-nope')).rejects.toMatchObject({ kind: 'not_found' });
    const building = await makeStoredArtifact(prisma, storeDir, { 'x.bin': randomBytes(10) });
    await prisma.artifact.update({ where: { id: building.id }, data: { status: 'building' } });
    await expect(artifactRefFor(prisma, building.id)).rejects.toMatchObject({ kind: 'precondition' });
  });
});
