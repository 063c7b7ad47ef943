// The demo's first minute: the seeded revision history is the demo Hub's own, so the watcher's first
// check of a freshly seeded database finds every repo unchanged — no "history rewritten" revision, no
// README commit classed as weights, no run started by itself — and a later publish is diffed against
// the real previous commit. Real Postgres (a database of its own), the fake Hub on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { runRepoCheck, upstreamSettingsFromEnv } from '@fleetplane/services';
import { DEMO_REPOS, demoNodes, seedDemoFleet } from './seed-demo-fleet';

let db: TestDatabase;
let prisma: PrismaClient;
let hub: FakeHub;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url);
  // The demo hub as `npm start` runs it, without a data directory: its pristine history.
  hub = await startFakeHub({ onWarning: () => undefined });
  await seedDemoFleet(prisma);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

const settings = () => ({ ...upstreamSettingsFromEnv({ ...process.env, HF_ENDPOINT: hub.url }) });

describe('demo seed and the demo hub', () => {
  it('records the hub repos’ own commits, with the files the watcher would list', async () => {
    const hubRepos = new Map(hub.repos().map((r) => [r.id, r]));
    for (const r of DEMO_REPOS) {
      const repo = await prisma.trackedRepo.findFirstOrThrow({
        where: { hubRepoId: r.hubRepoId },
        include: { revisions: { orderBy: { committedAt: 'asc' }, include: { files: true } } },
      });
      const served = hubRepos.get(r.hubRepoId)!;
      expect(repo.lastSeenSha).toBe(served.headSha);
      expect(repo.revisions.map((v) => v.commitSha)).toEqual(served.commits.map((c) => c.id).reverse());
      expect(repo.revisions.map((v) => v.commitTitle)).toEqual(served.commits.map((c) => c.title).reverse());
      expect(repo.revisions.every((v) => !(v.diff as { previousNotInHistory?: boolean }).previousNotInHistory)).toBe(true);
      // Realistic manifests: the head's files are the hub's (size, LFS sha256, git oid) for the repo's patterns.
      const head = repo.revisions.at(-1)!;
      const servedFiles = new Map(served.files.map((f) => [f.path, f]));
      expect(head.files.length).toBeGreaterThan(0);
      for (const f of head.files) {
        const s = servedFiles.get(f.path)!;
        expect(s).toBeDefined();
        expect(Number(f.sizeBytes)).toBe(s.size);
        expect(f.gitOid).toBe(s.oid);
        expect(f.sha256).toBe(s.lfs ? s.sha256 : null);
      }
    }
    // README commits are not weights changes (the README is not among any repo's patterns).
    const readmeRevisions = await prisma.modelRevision.findMany({ where: { commitTitle: 'Update README.md' } });
    expect(readmeRevisions).toHaveLength(DEMO_REPOS.length);
    expect(new Set(readmeRevisions.map((v) => v.changeClass))).toEqual(new Set(['none']));
    const flashFix = await prisma.modelRevision.findFirstOrThrow({
      where: { trackedRepo: { hubRepoId: 'deepseek-ai/DeepSeek-V4-Flash' }, commitTitle: { startsWith: 'Fix chat template' } },
    });
    expect(flashFix).toMatchObject({
      changeClass: 'tokenizer_template',
      diff: { added: [], removed: [], changed: ['tokenizer_config.json'] },
    });
    // Deployed artifacts still point at seeded revisions.
    expect(await prisma.artifact.count()).toBe(4);
    // pro-b200-vllm runs on two 8x B200 nodes (a rollout there has a canary and a wave), every other cluster on one.
    const nodes = await prisma.node.findMany({
      select: { hostname: true, cluster: { select: { name: true } }, _count: { select: { gpus: true } } },
      orderBy: { hostname: 'asc' },
    });
    expect(nodes).toHaveLength(demoNodes().length);
    expect(nodes.filter((n) => n.cluster.name === 'pro-b200-vllm').map((n) => [n.hostname, n._count.gpus])).toEqual([
      ['b200-node-01', 8],
      ['b200-node-02', 8],
    ]);
    expect(nodes.reduce((sum, n) => sum + n._count.gpus, 0)).toBe(29);
  });

  it('the first check after the seed finds every repo unchanged and starts no run', async () => {
    const revisionsBefore = await prisma.modelRevision.count();
    for (const r of await prisma.trackedRepo.findMany()) {
      const outcome = await runRepoCheck({ prisma, settings: settings() }, r.id, { force: true });
      expect({ repo: r.hubRepoId, status: outcome.status }).toEqual({ repo: r.hubRepoId, status: 'unchanged' });
    }
    expect(await prisma.modelRevision.count()).toBe(revisionsBefore);
    expect(await prisma.pipelineRun.count()).toBe(0);
    expect(await prisma.outboxMessage.count()).toBe(0);
  });

  it('a commit published afterwards is diffed against the real previous commit', async () => {
    const flash = await prisma.trackedRepo.findFirstOrThrow({ where: { hubRepoId: 'deepseek-ai/DeepSeek-V4-Flash' } });
    const { sha } = await hub.publishDemo(flash.hubRepoId, 'tokenizer');
    const outcome = await runRepoCheck({ prisma, settings: settings() }, flash.id, { force: true });
    expect(outcome.status).toBe('changed');
    const rev = await prisma.modelRevision.findUniqueOrThrow({
      where: { trackedRepoId_commitSha: { trackedRepoId: flash.id, commitSha: sha } },
    });
    expect(rev.changeClass).toBe('tokenizer_template');
    expect(rev.diff).toEqual({ added: [], removed: [], changed: ['tokenizer_config.json'] });
  });
});
