// The network policy end to end against real Postgres and loopback listeners: the admin setting and its
// audit, a refused Hub as the repo's state, and stored credentials that never follow a URL change to a
// server somebody swapped in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, tinyRepoSeed, type FakeHub } from '@fleetplane/fake-hub';
import { SYSTEM_ACTOR } from '../context';
import { createCluster, updateCluster } from '../inventory/clusters.service';
import { runRepoCheck } from '../upstream/repo-check.service';
import { createTrackedRepo, getTrackedRepo, updateTrackedRepo } from '../upstream/tracked-repos.service';
import { fastRetry, makeFamily, testPrisma, testSettings, uniqueRepoId } from '../upstream/upstream-test-support';
import type { UpstreamSettings } from '../shared/upstream-settings';
import {
  getNetworkPolicySetting,
  loadNetworkPolicy,
  NETWORK_POLICY_SETTING_KEY,
  updateNetworkPolicySetting,
} from './network-policy.service';
import { allowLoopbackForTests } from './testing';

const prisma = testPrisma();
const ctx = { prisma, actor: SYSTEM_ACTOR };
const PRIVATE = uniqueRepoId('np-private');
const OPEN = uniqueRepoId('np-open');
let hub: FakeHub;
let settings: UpstreamSettings;

/** "Somebody else's server": a listener on another loopback address that records what it was sent. */
let rogue: http.Server;
let rogueUrl: string;
const rogueSaw: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({
    repos: [tinyRepoSeed(OPEN, 1024), { ...tinyRepoSeed(PRIVATE, 1024), private: true, tokens: ['hf_private_ok'] }],
    onWarning: () => undefined,
  });
  settings = await testSettings(hub.url, { HF_TOKEN_NP: 'hf_private_ok' });
  rogue = http.createServer((req, res) => {
    rogueSaw.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"nope"}');
  });
  await new Promise<void>((r) => rogue.listen(0, '127.0.0.2', r));
  rogueUrl = `http://127.0.0.2:${(rogue.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await allowLoopbackForTests(prisma);
  await hub.close();
  await new Promise((r) => rogue.close(r));
  await prisma.$disconnect();
});
beforeEach(() => {
  hub.clearRequestLog();
  rogueSaw.length = 0;
});

describe('network policy setting', () => {
  it('is strict until an admin allows loopback; the change is audited and applies to the next policy load', async () => {
    await prisma.setting.deleteMany({ where: { key: NETWORK_POLICY_SETTING_KEY } });
    try {
      expect(await getNetworkPolicySetting(ctx)).toMatchObject({ allowLoopback: false, updatedAt: null });
      expect((await loadNetworkPolicy(prisma)).allowLoopback).toBe(false);

      const updated = await updateNetworkPolicySetting(ctx, { allowLoopback: true });
      expect(updated.allowLoopback).toBe(true);
      expect(await getNetworkPolicySetting(ctx)).toMatchObject({ allowLoopback: true });
      const audit = await prisma.auditEvent.findFirstOrThrow({
        where: { action: 'setting.network_policy.update' },
        orderBy: { occurredAt: 'desc' },
      });
      expect(audit).toMatchObject({
        targetType: 'setting',
        targetId: NETWORK_POLICY_SETTING_KEY,
        before: { allowLoopback: false },
        after: { allowLoopback: true },
      });

      // The control plane's own Postgres and Redis come from the configuration.
      const policy = await loadNetworkPolicy(prisma, {
        env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5433/fp', REDIS_URL: 'redis://127.0.0.1:6390' },
      });
      expect(policy).toEqual({
        allowLoopback: true,
        internalServices: [
          { name: 'Postgres', address: '127.0.0.1', port: 5433 },
          { name: 'Redis', address: '127.0.0.1', port: 6390 },
        ],
      });
      // A stored value that does not parse is read as the strict default.
      await prisma.setting.update({ where: { key: NETWORK_POLICY_SETTING_KEY }, data: { value: { allowLoopback: 'yes' } } });
      expect((await loadNetworkPolicy(prisma)).allowLoopback).toBe(false);
    } finally {
      await allowLoopbackForTests(prisma);
    }
  });
});

describe('repo checks under the policy', () => {
  it('marks a repo whose Hub is refused as "refused by network policy" and sends the Hub nothing', async () => {
    const family = await makeFamily(prisma);
    const repo = await prisma.trackedRepo.create({ data: { familyId: family.id, hubRepoId: OPEN, filePatterns: ['*.json'] } });
    await allowLoopbackForTests(prisma, false);
    try {
      const outcome = await runRepoCheck({ prisma, settings, retry: fastRetry }, repo.id, { force: true });
      expect(outcome).toMatchObject({ status: 'refused' });
    } finally {
      await allowLoopbackForTests(prisma);
    }
    const view = await getTrackedRepo(ctx, repo.id);
    expect(view.status).toBe('refused');
    expect(view.statusMessage).toMatch(new RegExp(`^${OPEN}: refused by network policy: 127\\.0\\.0\\.1 is a loopback address`));
    expect(hub.requestLog).toHaveLength(0);
    // Allowed again, the same repo checks fine.
    expect((await runRepoCheck({ prisma, settings, retry: fastRetry }, repo.id, { force: true })).status).toBe('changed');
  });
});

describe('stored credentials never follow a changed URL', () => {
  it('drops a stored Hub token when the Hub URL changes without a new token, so it never reaches the new server', async () => {
    const family = await makeFamily(prisma);
    const created = await createTrackedRepo(
      ctx,
      {
        familyId: family.id,
        hubRepoId: PRIVATE,
        filePatterns: ['*.json'],
        hubEndpoint: hub.url,
        accessToken: { kind: 'token', token: 'hf_private_ok' },
      },
      settings,
    );
    expect(created.hasAccessToken).toBe(true);
    expect((await runRepoCheck({ prisma, settings, retry: fastRetry }, created.id, { force: true })).status).toBe('changed');

    const fields = { familyId: family.id, hubRepoId: PRIVATE, branch: 'main', filePatterns: ['*.json'] };
    // Same URL, token kept: nothing dropped.
    expect(await updateTrackedRepo(ctx, { id: created.id, data: { ...fields, hubEndpoint: hub.url } }, settings)).toMatchObject({
      hasAccessToken: true,
      accessTokenDropped: false,
    });

    const moved = await updateTrackedRepo(ctx, { id: created.id, data: { ...fields, hubEndpoint: rogueUrl } }, settings);
    expect(moved).toMatchObject({ hubEndpoint: rogueUrl, hasAccessToken: false, accessTokenDropped: true });
    const row = await prisma.trackedRepo.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({ accessTokenEncrypted: null, accessTokenSecretRef: null });
    const audit = await prisma.auditEvent.findFirstOrThrow({
      where: { action: 'tracked_repo.update', targetId: created.id },
      orderBy: { occurredAt: 'desc' },
    });
    expect(audit.after).toMatchObject({ accessTokenDropped: true, hasAccessToken: false });

    await runRepoCheck({ prisma, settings, retry: fastRetry }, created.id, { force: true });
    expect(rogueSaw.length).toBeGreaterThan(0);
    expect(rogueSaw.every((r) => r.authorization === undefined)).toBe(true);

    // A secret reference is dropped the same way; a new credential given in the same change is kept.
    await updateTrackedRepo(
      ctx,
      { id: created.id, data: { ...fields, hubEndpoint: hub.url, accessToken: { kind: 'secret_ref', envVar: 'HF_TOKEN_NP' } } },
      settings,
    );
    expect(await updateTrackedRepo(ctx, { id: created.id, data: { ...fields, hubEndpoint: rogueUrl } }, settings)).toMatchObject({
      hasAccessToken: false,
      accessTokenDropped: true,
    });
    expect(
      await updateTrackedRepo(
        ctx,
        { id: created.id, data: { ...fields, hubEndpoint: rogueUrl, accessToken: { kind: 'token', token: 'hf_new_for_rogue' } } },
        settings,
      ),
    ).toMatchObject({
      hasAccessToken: true,
      accessTokenDropped: false,
    });
  });

  it("drops a cluster's endpoint API key reference when the endpoint changes, unless a different one is named", async () => {
    const site = await prisma.site.create({ data: { name: `np-site-${Date.now()}`, region: 'eu-west', dataResidency: 'eu' } });
    const base = {
      name: `np-${Date.now().toString(36)}`,
      siteId: site.id,
      servingEngine: 'vllm' as const,
      engineVersion: '0.11.2',
      servedModelName: 'm',
      maxContextTokens: 8192,
      gpuHourlyCostUsd: 2,
    };
    const { id } = await createCluster(ctx, { ...base, endpointUrl: 'http://10.0.0.5:8000', endpointApiKeyRef: 'VLLM_API_KEY' });
    const keyRef = async () => (await prisma.cluster.findUniqueOrThrow({ where: { id } })).endpointApiKeyRef;

    expect(
      await updateCluster(ctx, {
        id,
        data: { ...base, description: 'same endpoint', endpointUrl: 'http://10.0.0.5:8000', endpointApiKeyRef: 'VLLM_API_KEY' },
      }),
    ).toMatchObject({ endpointApiKeyDropped: false });
    expect(await keyRef()).toBe('VLLM_API_KEY');

    expect(
      await updateCluster(ctx, { id, data: { ...base, endpointUrl: 'http://10.9.9.9:8000', endpointApiKeyRef: 'VLLM_API_KEY' } }),
    ).toMatchObject({ endpointApiKeyDropped: true });
    expect(await keyRef()).toBeNull();

    expect(
      await updateCluster(ctx, { id, data: { ...base, endpointUrl: 'http://10.0.0.5:8000', endpointApiKeyRef: 'OTHER_KEY' } }),
    ).toMatchObject({ endpointApiKeyDropped: false });
    expect(await keyRef()).toBe('OTHER_KEY');
  });
});
