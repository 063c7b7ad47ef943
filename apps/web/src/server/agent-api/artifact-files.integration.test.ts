// The artifact file route's HTTP side with real Requests against the handler, on the real database and real
// files on disk: node credential auth, Range / If-Range / 416, ETag = sha256, HEAD, files larger than one
// read streamed intact, and the service's refusals (404, 500) answered with their wire status. Which file a
// node may have is the service's (packages/services/src/artifacts/artifact-files.integration.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_API_PATHS, agentAuthorizationHeader, ZAgentError } from '@fleetplane/contracts';
import { makeStoredArtifact } from '@fleetplane/services/artifacts/test-support';
import { makeNode, testDeps, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { handleArtifactFileRequest } from './artifact-files';

const deps = testDeps();
const { prisma } = deps;
let storeDir: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface TestArtifact {
  id: string;
  digest: string;
  dir: string;
  files: Record<string, Buffer>;
}

async function makeArtifact(files: Record<string, Buffer>): Promise<TestArtifact> {
  const { id, digest, dir } = await makeStoredArtifact(prisma, storeDir, files);
  return { id, digest, dir, files };
}

function request(
  node: TestNode | null,
  artifactId: string,
  filePath: string,
  init: { method?: string; headers?: Record<string, string> } = {},
) {
  const url = `http://fleetplane.test${AGENT_API_PATHS.artifactFile(artifactId, filePath)}`;
  return new Request(url, {
    method: init.method ?? 'GET',
    headers: { ...(node ? { authorization: agentAuthorizationHeader(node.credential) } : {}), ...init.headers },
  });
}

async function get(
  node: TestNode | null,
  a: { id: string },
  filePath: string,
  init: { method?: string; headers?: Record<string, string> } = {},
) {
  const res = await handleArtifactFileRequest(deps, request(node, a.id, filePath, init), { artifactId: a.id, path: filePath.split('/') });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

function errorCode(body: Buffer): string {
  return ZAgentError.parse(JSON.parse(body.toString('utf8'))).error.code;
}

let nodeA: TestNode; // cluster 1, which deploys the artifact
let nodeA2: TestNode; // also cluster 1
let nodeB: TestNode; // cluster 2
let art: TestArtifact;

beforeAll(async () => {
  storeDir = await mkdtemp(path.join(tmpdir(), 'fleetplane-artifact-http-'));
  nodeA = await makeNode(prisma, 0);
  nodeA2 = await makeNode(prisma, 0, { clusterId: nodeA.clusterId });
  nodeB = await makeNode(prisma, 0);
  art = await makeArtifact({
    'config.json': Buffer.from('{"model_type":"deepseek_v4"}'),
    // Larger than the 1 MiB read size so the stream is several chunks, and not a multiple of it.
    'weights/model-00001-of-00001.safetensors': randomBytes(3 * 1024 * 1024 + 12345),
  });
  await prisma.deployment.create({ data: { clusterId: nodeA.clusterId, artifactId: art.id, state: 'active' } });
});

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
  await rm(storeDir, { recursive: true, force: true });
});

describe('GET /api/agent/v1/artifacts/<id>/files/<path>', () => {
  it('refuses a request without a credential or with an unknown one (401), before looking at the artifact', async () => {
    const none = await get(null, art, 'config.json');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(errorCode(none.body)).toBe('unauthorized');
    const bogus = await get({ ...nodeA, credential: 'fpn_bogus_credential_0000000000000000' }, art, 'config.json');
    expect(bogus.status).toBe(401);
  });

  it("serves a file of the node's cluster's deployment whole, with its sha256 as ETag and its length", async () => {
    const file = art.files['weights/model-00001-of-00001.safetensors']!;
    for (const node of [nodeA, nodeA2]) {
      const res = await get(node, art, 'weights/model-00001-of-00001.safetensors');
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(`"${sha256(file)}"`);
      expect(res.headers.get('content-length')).toBe(String(file.length));
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.body.equals(file)).toBe(true);
    }
  });

  it('serves a range with 206 and Content-Range: open-ended (resume), closed and suffix', async () => {
    const file = art.files['weights/model-00001-of-00001.safetensors']!;
    const size = file.length;
    const etag = `"${sha256(file)}"`;
    const resume = await get(nodeA, art, 'weights/model-00001-of-00001.safetensors', {
      headers: { range: 'bytes=1048577-', 'if-range': etag },
    });
    expect(resume.status).toBe(206);
    expect(resume.headers.get('content-range')).toBe(`bytes 1048577-${size - 1}/${size}`);
    expect(resume.headers.get('content-length')).toBe(String(size - 1048577));
    expect(resume.body.equals(file.subarray(1048577))).toBe(true);

    const closed = await get(nodeA, art, 'weights/model-00001-of-00001.safetensors', { headers: { range: 'bytes=10-19' } });
    expect(closed.status).toBe(206);
    expect(closed.body.equals(file.subarray(10, 20))).toBe(true);

    const suffix = await get(nodeA, art, 'weights/model-00001-of-00001.safetensors', { headers: { range: 'bytes=-7' } });
    expect(suffix.headers.get('content-range')).toBe(`bytes ${size - 7}-${size - 1}/${size}`);
    expect(suffix.body.equals(file.subarray(size - 7))).toBe(true);
  });

  it('sends the whole file when If-Range names another version, and 416 past the end', async () => {
    const file = art.files['config.json']!;
    const stale = await get(nodeA, art, 'config.json', { headers: { range: 'bytes=5-', 'if-range': `"${'0'.repeat(64)}"` } });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(file)).toBe(true);
    const past = await get(nodeA, art, 'config.json', { headers: { range: `bytes=${file.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${file.length}`);
    expect(errorCode(past.body)).toBe('range_not_satisfiable');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const file = art.files['weights/model-00001-of-00001.safetensors']!;
    const head = await get(nodeA, art, 'weights/model-00001-of-00001.safetensors', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(file.length));
    expect(head.headers.get('etag')).toBe(`"${sha256(file)}"`);
    expect(head.body.length).toBe(0);
    const ranged = await get(nodeA, art, 'config.json', { method: 'HEAD', headers: { range: 'bytes=2-' } });
    expect(ranged.status).toBe(206);
  });

  it("answers another cluster's artifact exactly like an unknown one (404), and paths outside the manifest with 404", async () => {
    const other = await get(nodeB, art, 'config.json');
    const unknown = await get(nodeB, { id: 'c-no-such-artifact' }, 'config.json');
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(other.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(errorCode(other.body)).toBe('not_found');
    expect(JSON.parse(other.body.toString()).error.message.replace(art.id, 'X')).toBe(
      JSON.parse(unknown.body.toString()).error.message.replace('c-no-such-artifact', 'X'),
    );
    expect((await get(nodeA, art, 'weights/missing.safetensors')).status).toBe(404);
    const traversal = await handleArtifactFileRequest(deps, request(nodeA, art.id, 'config.json'), {
      artifactId: art.id,
      path: ['..', '..', 'etc', 'passwd'],
    });
    expect(traversal.status).toBe(404);
  });

  it('says so (500) instead of streaming a file whose size on disk differs from the manifest', async () => {
    const broken = await makeArtifact({ 'a.bin': randomBytes(1000) });
    await prisma.deployment.create({ data: { clusterId: nodeA.clusterId, artifactId: broken.id, state: 'active' } });
    expect((await get(nodeA, broken, 'a.bin')).status).toBe(200);
    await truncate(path.join(broken.dir, 'a.bin'), 10);
    const res = await get(nodeA, broken, 'a.bin');
    expect(res.status).toBe(500);
    expect(errorCode(res.body)).toBe('internal');
  });
});
