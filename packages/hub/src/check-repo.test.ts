import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { classifyChange, diffManifests } from '@fleetplane/domain/revisions/manifest-diff';
import type { NetworkPolicy } from '@fleetplane/net';
import { checkRepo } from './check-repo';
import type { TRepoCheckResult } from './check-repo.schema';

const REPO = 'deepseek-ai/DeepSeek-V4-Flash';
const PATTERNS = ['*.safetensors', '*.json', 'tokenizer*', '*.md'];
// The fake Hub listens on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };
const fastRetry = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterSeconds: 2 };
let hub: FakeHub;

const seeds = () => {
  const files = { 'config.json': '{}\n', 'model.safetensors': new Uint8Array(32).fill(1) };
  return [
    { id: 'acme/private', private: true, tokens: ['hf_ok'], commits: [{ title: 'init', files }] },
    { id: 'acme/gated', gated: 'manual' as const, tokens: ['hf_granted'], commits: [{ title: 'init', files }] },
  ];
};

beforeAll(async () => {
  const { demoRepos } = await import('@fleetplane/fake-hub');
  hub = await startFakeHub({ repos: [...demoRepos(), ...seeds()] });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequestLog();
});

function changed(r: TRepoCheckResult) {
  if (r.status !== 'changed') throw new Error(`expected changed, got ${JSON.stringify(r)}`);
  return r;
}

describe('checkRepo', () => {
  it('reports the head revision with its manifest on first sight', async () => {
    const head = hub.repos().find((r) => r.id === REPO)!;
    const r = changed(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: PATTERNS }));
    expect(r.headSha).toBe(head.headSha);
    expect(r.etag).toMatch(/^"/);
    expect(r.knownShaFound).toBe(true);
    expect(r.commits).toHaveLength(1);
    const [c] = r.commits;
    expect(c!.sha).toBe(head.headSha);
    expect(c!.title).toBe('Update README.md');
    expect(c!.files.map((f) => f.path)).toEqual([
      'README.md',
      'config.json',
      'generation_config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const shard = c!.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
    const real = head.files.find((f) => f.path === shard.path)!;
    expect(shard).toEqual({ path: shard.path, sizeBytes: real.size, sha256: real.sha256, gitOid: real.oid, lfs: true });
    const cfg = c!.files.find((f) => f.path === 'config.json')!;
    expect(cfg).toMatchObject({ sha256: null, lfs: false, gitOid: head.files.find((f) => f.path === 'config.json')!.oid });
  });

  it('costs exactly one request when nothing changed', async () => {
    const first = changed(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: PATTERNS }));
    hub.clearRequestLog();
    const again = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      knownSha: first.headSha,
      etag: first.etag,
    });
    expect(again).toEqual({ status: 'unchanged', etag: first.etag });
    expect(hub.requestLog).toHaveLength(1);
    expect(hub.requestLog[0]).toMatchObject({ method: 'GET', status: 304, ifNoneMatch: first.etag });
    // Without an etag the sha comparison still makes it one request.
    hub.clearRequestLog();
    const noEtag = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      knownSha: first.headSha,
    });
    expect(noEtag.status).toBe('unchanged');
    expect(hub.requestLog).toHaveLength(1);
  });

  it('detects new commits oldest first and classifies each diff', async () => {
    const before = changed(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: PATTERNS }));
    const weights = await hub.publishDemo(REPO, 'weights');
    const tokenizer = await hub.publishDemo(REPO, 'tokenizer');
    const docs = await hub.publishDemo(REPO, 'docs');
    const r = changed(
      await checkRepo({
        network: LOOPBACK,
        hubUrl: hub.url,
        repoId: REPO,
        branch: 'main',
        filePatterns: PATTERNS,
        knownSha: before.headSha,
        etag: before.etag,
      }),
    );
    expect(r.headSha).toBe(docs.sha);
    expect(r.commits.map((c) => c.sha)).toEqual([weights.sha, tokenizer.sha, docs.sha]);
    let prev = before.commits[0]!.files;
    const kinds = [];
    for (const c of r.commits) {
      kinds.push(classifyChange(diffManifests(prev, c.files)));
      prev = c.files;
    }
    expect(kinds).toEqual(['weights', 'tokenizer_template', 'docs']);
    const weightDiff = diffManifests(before.commits[0]!.files, r.commits[0]!.files);
    expect(weightDiff.changed.map((x) => x.path)).toEqual(weights.paths);
    expect(weightDiff.bytesToFetch).toBe(r.commits[0]!.files.find((f) => f.path === weights.paths[0])!.sizeBytes);
  });

  it('filters the manifest with the patterns (tokenizer* matches both tokenizer files)', async () => {
    const r = changed(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: ['tokenizer*'] }));
    expect(r.commits[0]!.files.map((f) => f.path)).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    const nested = changed(
      await checkRepo({
        network: LOOPBACK,
        hubUrl: hub.url,
        repoId: 'unsloth/DeepSeek-V4-Flash-GGUF',
        branch: 'main',
        filePatterns: ['*Q4_K_M*.gguf'],
      }),
    );
    expect(nested.commits[0]!.files.map((f) => f.path)).toEqual(['Q4_K_M/DeepSeek-V4-Flash-Q4_K_M.gguf']);
  });

  it('reports a force-push that hid knownSha', async () => {
    const r = changed(
      await checkRepo({
        network: LOOPBACK,
        hubUrl: hub.url,
        repoId: 'deepseek-ai/DeepSeek-V4-Pro',
        branch: 'main',
        filePatterns: PATTERNS,
        knownSha: 'f'.repeat(40),
      }),
    );
    expect(r.knownShaFound).toBe(false);
    expect(r.commits.length).toBe(3);
  });

  it('backs off on 429 and then succeeds, or reports rate_limited with Retry-After', async () => {
    hub.setFaults({ rateLimit: { requests: 1, retryAfterSeconds: 0 } });
    const ok = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      retry: fastRetry,
    });
    expect(ok.status).toBe('changed');
    expect(hub.requestLog[0]).toMatchObject({ status: 429 });
    expect(hub.requestLog[1]).toMatchObject({ status: 200 });

    hub.setFaults({ rateLimit: { requests: 100, retryAfterSeconds: 120 } });
    hub.clearRequestLog();
    const limited = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      retry: fastRetry,
    });
    expect(limited).toMatchObject({ status: 'rate_limited', retryAfterSeconds: 120, httpStatus: 429 });
    // Retry-After beyond the cap is reported at once rather than slept through.
    expect(hub.requestLog).toHaveLength(1);
  });

  it('retries 5xx with backoff and reports unreachable when the Hub stays down', async () => {
    hub.setFaults({ status5xx: 2 });
    expect(
      (await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: PATTERNS, retry: fastRetry }))
        .status,
    ).toBe('changed');
    hub.setFaults({ status5xx: 100 });
    hub.clearRequestLog();
    const down = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      retry: fastRetry,
    });
    expect(down).toMatchObject({ status: 'unreachable', httpStatus: 503 });
    expect(hub.requestLog).toHaveLength(3);
    const refused = await checkRepo({
      network: LOOPBACK,
      hubUrl: 'http://127.0.0.1:1',
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      retry: fastRetry,
    });
    expect(refused.status).toBe('unreachable');
  });

  it('maps private, gated and missing repos to states instead of throwing', async () => {
    expect(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: 'acme/private', branch: 'main', filePatterns: [] })).toMatchObject(
      { status: 'unauthorized', httpStatus: 401 },
    );
    expect(
      (
        await checkRepo({
          network: LOOPBACK,
          hubUrl: hub.url,
          repoId: 'acme/private',
          branch: 'main',
          filePatterns: [],
          accessToken: 'hf_ok',
        })
      ).status,
    ).toBe('changed');
    const gated = await checkRepo({
      network: LOOPBACK,
      hubUrl: hub.url,
      repoId: 'acme/gated',
      branch: 'main',
      filePatterns: [],
      accessToken: 'hf_nope',
    });
    expect(gated).toMatchObject({ status: 'gated', httpStatus: 403 });
    expect((gated as { message: string }).message).toMatch(/gated/);
    expect((await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: 'acme/gated', branch: 'main', filePatterns: [] })).status).toBe(
      'gated',
    );
    expect(
      (
        await checkRepo({
          network: LOOPBACK,
          hubUrl: hub.url,
          repoId: 'acme/gated',
          branch: 'main',
          filePatterns: [],
          accessToken: 'hf_granted',
        })
      ).status,
    ).toBe('changed');
    expect(await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'no-such-branch', filePatterns: [] })).toMatchObject(
      { status: 'not_found', httpStatus: 404 },
    );
    expect(
      await checkRepo({
        network: LOOPBACK,
        hubUrl: hub.url,
        repoId: 'nobody/nothing',
        branch: 'main',
        filePatterns: [],
        accessToken: 'hf_x',
      }),
    ).toMatchObject({ status: 'not_found' });
  });

  it('rejects invalid input loudly', async () => {
    await expect(checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: 'not a repo', branch: 'main', filePatterns: [] })).rejects.toThrow(
      /owner\/name/,
    );
    await expect(
      checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: [], accessToken: 'abc' }),
    ).rejects.toThrow(/hf_/);
  });

  it('reports a Hub the network policy refuses as "refused", without sending it anything', async () => {
    hub.clearRequestLog();
    const strict = await checkRepo({ hubUrl: hub.url, repoId: REPO, branch: 'main', filePatterns: PATTERNS, retry: fastRetry });
    expect(strict).toMatchObject({ status: 'refused' });
    expect((strict as { message: string }).message).toMatch(
      /^deepseek-ai\/DeepSeek-V4-Flash: refused by network policy: 127\.0\.0\.1 is a loopback address/,
    );
    const named = await checkRepo({
      network: LOOPBACK,
      // Loopback first: a connection made in spite of the refusal would land on the fake Hub and show.
      resolve: async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '::ffff:169.254.169.254', family: 6 },
      ],
      hubUrl: `http://hub.internal.test:${new URL(hub.url).port}`,
      repoId: REPO,
      branch: 'main',
      filePatterns: PATTERNS,
      accessToken: 'hf_secret',
    });
    expect(named).toMatchObject({ status: 'refused' });
    expect((named as { message: string }).message).toContain('is a link-local address');
    expect(hub.requestLog).toHaveLength(0);
  });
});
