// The upstream watcher against the fake Hub and a real database: what becomes a revision, what costs
// one request, how Hub problems become the repo's status, and how webhooks are authenticated.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allowLoopbackForTests } from '../network/testing';
import { startFakeHub, tinyRepoSeed, type FakeHub } from '@fleetplane/fake-hub';
import { JobProducer } from '@fleetplane/queue';
import { SYSTEM_ACTOR } from '../context';
import { handleHubWebhook } from './hub-webhook.service';
import { runRepoCheck } from './repo-check.service';
import { deleteCluster } from '../inventory/clusters.service';
import { createTrackedRepo, getTrackedRepo, updateTrackedRepo } from './tracked-repos.service';
import { fastRetry, makeFamily, makeTrackedRepo, testPrisma, testSettings, uniqueRepoId } from './upstream-test-support';
import { resolveRepoAccess, type UpstreamSettings } from '../shared/upstream-settings';

const prisma = testPrisma();
const REPOS = Array.from({ length: 8 }, () => uniqueRepoId());
const PRIVATE = uniqueRepoId('private');
const PRIVATE2 = uniqueRepoId('private');
let hub: FakeHub;
let settings: UpstreamSettings;
let producer: JobProducer;

beforeAll(async () => {
  // The fake Hub / webhook receiver listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({
    repos: [
      ...REPOS.map((id) => tinyRepoSeed(id, 4096)),
      { ...tinyRepoSeed(PRIVATE, 1024), private: true, tokens: ['hf_private_ok'] },
      { ...tinyRepoSeed(PRIVATE2, 1024), private: true, tokens: ['hf_private_ok'] },
    ],
    onWarning: () => undefined,
  });
  settings = await testSettings(hub.url, { HF_TOKEN_TEST: 'hf_private_ok' });
  producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await hub.close();
  await producer.close();
  await prisma.$disconnect();
});
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequestLog();
});

const check = (id: string, force = false) => runRepoCheck({ prisma, settings, retry: fastRetry }, id, { force });

async function revisionsOf(trackedRepoId: string) {
  return prisma.modelRevision.findMany({ where: { trackedRepoId }, orderBy: { detectedAt: 'asc' }, include: { files: true } });
}

describe('runRepoCheck', () => {
  it('records the head as one initial revision, then costs one request when nothing changed', async () => {
    const REPO = REPOS[0]!;
    const repo = await makeTrackedRepo(prisma, REPO);
    const first = await check(repo.id);
    expect(first.status).toBe('changed');
    const revs = await revisionsOf(repo.id);
    expect(revs).toHaveLength(1);
    const head = hub.repos().find((r) => r.id === REPO)!;
    expect(revs[0]).toMatchObject({ commitSha: head.headSha, changeClass: 'initial', commitTitle: 'Upload model' });
    // assets/logo.png does not match the patterns and is not part of the manifest.
    expect(revs[0]!.files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'tokenizer.json',
    ]);
    expect(Number(revs[0]!.totalBytes)).toBe(revs[0]!.files.reduce((n, f) => n + Number(f.sizeBytes), 0));
    expect(await getTrackedRepo({ prisma }, repo.id)).toMatchObject({ status: 'ok', lastSeenSha: head.headSha });

    const etag = (await prisma.trackedRepo.findUniqueOrThrow({ where: { id: repo.id } })).lastEtag;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);

    hub.clearRequestLog();
    expect((await check(repo.id)).status).toBe('unchanged');
    // One conditional request, answered 304 without a body.
    expect(hub.requestLog).toHaveLength(1);
    expect(hub.requestLog[0]).toMatchObject({ method: 'GET', status: 304, ifNoneMatch: etag, bytesSent: 0 });
    expect(await revisionsOf(repo.id)).toHaveLength(1);

    // A new commit changes the answer: 200 despite the old ETag, and the new ETag is stored.
    await hub.publish(REPO, { title: 'Docs', files: { 'README.md': '# tiny, edited\n' } });
    hub.clearRequestLog();
    expect((await check(repo.id)).status).toBe('changed');
    expect(hub.requestLog[0]).toMatchObject({ status: 200, ifNoneMatch: etag });
    const after = await prisma.trackedRepo.findUniqueOrThrow({ where: { id: repo.id } });
    expect(after.lastEtag).toMatch(/^"[0-9a-f]+"$/);
    expect(after.lastEtag).not.toBe(etag);
    expect(await revisionsOf(repo.id)).toHaveLength(2);
  });

  it('classifies weights, tokenizer-only and docs-only commits and counts the bytes to fetch', async () => {
    const REPO = REPOS[1]!;
    const repo = await makeTrackedRepo(prisma, REPO);
    await check(repo.id);
    await hub.publish(REPO, {
      title: 'New shard 2',
      files: { 'model-00002-of-00002.safetensors': { sizeBytes: 5000, seed: `w-${repo.id}` } },
    });
    await check(repo.id);
    await hub.publish(REPO, { title: 'Tokenizer fix', files: { 'tokenizer.json': `{"version":"${repo.id}"}\n` } });
    await check(repo.id);
    await hub.publish(REPO, { title: 'Docs', files: { 'README.md': `# ${repo.id}\n` } });
    await check(repo.id);
    const revs = await revisionsOf(repo.id);
    expect(revs.map((r) => r.changeClass)).toEqual(['initial', 'weights', 'tokenizer_template', 'docs']);
    expect(revs[1]!.diff).toEqual({ added: [], removed: [], changed: ['model-00002-of-00002.safetensors'] });
    expect(Number(revs[1]!.bytesToFetch)).toBe(5000);
    expect(revs[2]!.diff).toEqual({ added: [], removed: [], changed: ['tokenizer.json'] });
    expect(revs[3]!.previousRevisionId).toBe(revs[2]!.id);
  });

  it('records every commit between two checks, each exactly once, in order', async () => {
    const REPO = REPOS[2]!;
    const repo = await makeTrackedRepo(prisma, REPO);
    await check(repo.id);
    const a = await hub.publish(REPO, { title: 'A', files: { 'README.md': `# A ${repo.id}\n` } });
    const b = await hub.publish(REPO, { title: 'B', files: { 'tokenizer.json': `{"b":"${repo.id}"}\n` } });
    const [r1, r2] = await Promise.all([check(repo.id), check(repo.id)]);
    expect([r1.status, r2.status].sort()).toEqual(['changed', 'changed']);
    const revs = await revisionsOf(repo.id);
    expect(revs.slice(1).map((r) => r.commitSha)).toEqual([a.sha, b.sha]);
    expect(revs[2]!.previousRevisionId).toBe(revs[1]!.id);
    expect(revs[2]!.diff).toEqual({ added: [], removed: [], changed: ['tokenizer.json'] });
  });

  it('records only the head when the last seen sha is not in the history (force-push, seeded data)', async () => {
    const REPO = REPOS[3]!;
    const repo = await makeTrackedRepo(prisma, REPO);
    await check(repo.id);
    await prisma.trackedRepo.update({ where: { id: repo.id }, data: { lastSeenSha: 'f'.repeat(40) } });
    await hub.publish(REPO, { title: 'X', files: { 'README.md': `# X ${repo.id}\n` } });
    const head = await hub.publish(REPO, { title: 'Y', files: { 'config.json': `{"y":"${repo.id}"}\n` } });
    await check(repo.id);
    const revs = await revisionsOf(repo.id);
    expect(revs).toHaveLength(2);
    expect(revs[1]).toMatchObject({ commitSha: head.sha, previousRevisionId: revs[0]!.id, changeClass: 'weights' });
    // The diff spans the rewrite, and says so (the dashboard shows "history rewritten").
    expect(revs[1]!.diff).toEqual({ added: [], removed: [], changed: ['README.md', 'config.json'], previousNotInHistory: true });
  });

  it('turns a 429 into a rate_limited status with a backoff that scheduled checks honour', async () => {
    const REPO = REPOS[4]!;
    const repo = await makeTrackedRepo(prisma, REPO);
    hub.setFaults({ rateLimit: { requests: 10, retryAfterSeconds: 120 } });
    const before = Date.now();
    const outcome = await check(repo.id);
    expect(outcome.status).toBe('rate_limited');
    const stored = await prisma.trackedRepo.findUniqueOrThrow({ where: { id: repo.id } });
    expect(stored.status).toBe('rate_limited');
    expect(stored.statusMessage).toBeTruthy();
    expect(stored.nextCheckAfter!.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    hub.clearFaults();
    hub.clearRequestLog();
    expect((await check(repo.id)).status).toBe('deferred');
    expect(hub.requestLog).toHaveLength(0);
    // "Check now" overrides the backoff.
    expect((await check(repo.id, true)).status).toBe('changed');
  });

  it('reports not_found and unauthorized as statuses, never throws', async () => {
    // Like the Hub, an anonymous request cannot tell a missing repo from a private one.
    const missing = await makeTrackedRepo(prisma, 'acme/does-not-exist');
    expect((await check(missing.id)).status).toBe('unauthorized');
    await prisma.trackedRepo.update({ where: { id: missing.id }, data: { accessTokenSecretRef: 'HF_TOKEN_TEST' } });
    expect((await check(missing.id)).status).toBe('not_found');
    expect((await prisma.trackedRepo.findUniqueOrThrow({ where: { id: missing.id } })).status).toBe('not_found');
    const priv = await makeTrackedRepo(prisma, PRIVATE);
    expect((await check(priv.id)).status).toMatch(/unauthorized|not_found/);
    await prisma.trackedRepo.update({ where: { id: priv.id }, data: { accessTokenSecretRef: 'HF_TOKEN_MISSING' } });
    const r = await check(priv.id);
    expect(r).toMatchObject({ status: 'unauthorized', message: expect.stringContaining('HF_TOKEN_MISSING') });
  });

  it('stores tokens encrypted (never returned) and uses them, or reads a secret reference', async () => {
    const family = await makeFamily(prisma);
    const ctx = { prisma, actor: SYSTEM_ACTOR };
    const view = await createTrackedRepo(
      ctx,
      { familyId: family.id, hubRepoId: PRIVATE2, filePatterns: ['*.json'], accessToken: { kind: 'token', token: 'hf_private_ok' } },
      settings,
    );
    expect(view.hasAccessToken).toBe(true);
    expect(JSON.stringify(view)).not.toContain('hf_private_ok');
    const row = await prisma.trackedRepo.findUniqueOrThrow({ where: { id: view.id } });
    expect(row.accessTokenEncrypted).toMatch(/^v1\./);
    expect(row.accessTokenEncrypted).not.toContain('hf_private_ok');
    expect(resolveRepoAccess(row, settings).accessToken).toBe('hf_private_ok');
    expect(resolveRepoAccess(row, { ...settings, secretKey: 'cd'.repeat(32) }).problem).toMatch(/cannot be decrypted/);
    expect((await check(view.id)).status).toBe('changed');

    await prisma.trackedRepo.update({
      where: { id: view.id },
      data: { accessTokenEncrypted: null, accessTokenSecretRef: 'HF_TOKEN_TEST', lastSeenSha: null },
    });
    expect((await check(view.id)).status).toBe('changed');
  });

  it('starts one pipeline run through the outbox when the policy says so', async () => {
    const REPO = REPOS[5]!;
    const repo = await makeTrackedRepo(prisma, REPO, { autoStartPipelines: true });
    await check(repo.id);
    const runs = await prisma.pipelineRun.findMany({ where: { revision: { trackedRepoId: repo.id } }, include: { steps: true } });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'auto', targetKey: 'default', state: 'queued' });
    expect(runs[0]!.steps.map((s) => s.kind)).toEqual(['download']);
    expect(await prisma.outboxMessage.count({ where: { jobId: `start-${runs[0]!.id}-0` } })).toBe(1);
    // A docs-only change is not worth a run.
    await hub.publish(REPO, { title: 'Docs again', files: { 'README.md': `# docs ${repo.id}\n` } });
    await check(repo.id);
    expect(await prisma.pipelineRun.count({ where: { revision: { trackedRepoId: repo.id } } })).toBe(1);
  });

  it('starts one run per auto-start cluster, each with the cluster as its target', async () => {
    const REPO = REPOS[6]!;
    const suffix = randomBytes(4).toString('hex');
    const site = await prisma.site.create({ data: { name: `site-${suffix}`, region: 'eu', dataResidency: 'eu' } });
    const [a, b] = await Promise.all(
      ['a', 'b'].map((n) =>
        prisma.cluster.create({ data: { siteId: site.id, name: `auto-${n}-${suffix}`, servingEngine: 'vllm', engineVersion: '0.11.0' } }),
      ),
    );
    const family = await makeFamily(prisma);
    const ctx = { prisma, actor: SYSTEM_ACTOR };
    const fields = { familyId: family.id, hubRepoId: REPO, filePatterns: ['*.safetensors', '*.json'], autoStartPipelines: true };
    await expect(createTrackedRepo(ctx, { ...fields, autoStartClusterIds: ['c'.repeat(25)] }, settings)).rejects.toMatchObject({
      field: 'autoStartClusterIds',
    });
    expect(await prisma.trackedRepo.count({ where: { hubRepoId: REPO } })).toBe(0);

    const view = await createTrackedRepo(ctx, { ...fields, autoStartClusterIds: [b!.id, a!.id] }, settings);
    expect(view.autoStartClusters.map((c) => c.id)).toEqual([a!.id, b!.id]);
    await check(view.id);
    const runs = await prisma.pipelineRun.findMany({ where: { revision: { trackedRepoId: view.id } } });
    expect(runs.map((r) => r.targetKey).sort()).toEqual([a!.id, b!.id].sort());
    expect(runs.every((r) => r.trigger === 'auto' && r.state === 'queued')).toBe(true);

    // A cluster that a repo auto-starts into is not deleted from under it.
    await expect(deleteCluster(ctx, a!.id)).rejects.toThrow(new RegExp(`${REPO}.*start automatically`));
    const updated = await updateTrackedRepo(ctx, { id: view.id, data: { ...fields, autoStartClusterIds: [b!.id] } }, settings);
    expect(updated.autoStartClusters.map((c) => c.id)).toEqual([b!.id]);
    await deleteCluster(ctx, a!.id);
    expect(await prisma.cluster.count({ where: { id: a!.id } })).toBe(0);
    // Turning auto-start off drops its clusters, so they no longer hold anything.
    const off = await updateTrackedRepo(
      ctx,
      { id: view.id, data: { ...fields, autoStartPipelines: false, autoStartClusterIds: [b!.id] } },
      settings,
    );
    expect(off.autoStartClusters).toEqual([]);
  });
});

describe('handleHubWebhook', () => {
  const body = (name: string) => ({
    event: { action: 'update', scope: 'repo.content' },
    repo: { type: 'model', name, headSha: 'a'.repeat(40) },
    updatedRefs: [{ ref: 'refs/heads/main', oldSha: null, newSha: 'a'.repeat(40) }],
  });

  it('refuses a wrong or missing secret, and every request when no secret is configured', async () => {
    const repo = await makeTrackedRepo(prisma, uniqueRepoId('hooked'));
    const secret = 'a-webhook-secret-of-some-length';
    const deps = { prisma, producer };
    expect((await handleHubWebhook(deps, { secretHeader: 'wrong', configuredSecret: secret, body: body(repo.hubRepoId) })).status).toBe(
      401,
    );
    expect((await handleHubWebhook(deps, { secretHeader: null, configuredSecret: secret, body: body(repo.hubRepoId) })).status).toBe(401);
    expect((await handleHubWebhook(deps, { secretHeader: secret, configuredSecret: undefined, body: body(repo.hubRepoId) })).status).toBe(
      401,
    );
    expect(await producer.queue('upstream').getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect((await handleHubWebhook(deps, { secretHeader: secret, configuredSecret: secret, body: { nope: true } })).status).toBe(400);

    const ok = await handleHubWebhook(deps, { secretHeader: secret, configuredSecret: secret, body: body(repo.hubRepoId) });
    expect(ok).toEqual({ status: 202, body: { checks: 1 } });
    const jobs = await producer.queue('upstream').getJobs(['waiting']);
    expect(jobs.map((j) => j.data)).toEqual([{ trackedRepoId: repo.id, reason: 'webhook' }]);
    // A second push while the check still waits does not pile up another one.
    await handleHubWebhook(deps, { secretHeader: secret, configuredSecret: secret, body: body(repo.hubRepoId) });
    expect(await producer.queue('upstream').getJobCounts('waiting')).toEqual({ waiting: 1 });
  });
});
