import type { Page } from '@playwright/test';
import { createPrismaClient } from '@fleetplane/db';
import { OPERATOR } from './fixtures/accounts';
import { engineFact } from './fixtures/engine-panel';
import { approveBySecondPerson, proposeOnFreshEvidence, startRollout } from './fixtures/proposal-flow';
import { expect, signIn, test } from './fixtures/test';

// Issue 15 item 7 on live engines: run-e2e.ts runs the real agent on both nodes of pro-b200-vllm, each with its engine
// (the reference endpoint in vLLM's dialect) serving the cluster's deployment and its /metrics scraped by the agent,
// and publishes new Pro weights on the Hub before the suite: the watcher records the revision, its artifact's files
// are stored (sha256-verified), and the spec finds it by E2E_PRO_UPGRADE_ARTIFACT_ID. The cluster's policy checks
// twice, 12 s apart, with TTFT p99 capped at 1.5 s. The spec is the cluster's only client, so it sends the traffic
// itself (a step without traffic is inconclusive and pauses, decision 26), over loopback to the engine endpoints the
// node pages show. Two nodes: the canary is one, the other is the wave (and the canary's comparison).
const CLUSTER = 'pro-b200-vllm';
const HOSTS = ['b200-node-01', 'b200-node-02'];
const MODEL = 'deepseek-ai/DeepSeek-V4-Pro';
/** Past the cluster's 1.5 s TTFT p99 cap on any box, and short enough that requests finish inside a 12 s check. */
const DEGRADED_TTFT_MS = 3000;

/** Chat requests, a few at a time, until stopped: the canary's traffic. */
function driveTraffic(engineUrl: string, concurrency = 3): { stop: () => Promise<number> } {
  let stopped = false;
  let finished = 0;
  const worker = async () => {
    while (!stopped) {
      const res = await fetch(`${engineUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Say hello.' }] }),
      }).catch(() => null);
      if (res) {
        await res.arrayBuffer();
        finished += 1;
      } else await new Promise((r) => setTimeout(r, 250));
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return finished;
    },
  };
}

async function setDegradations(engineUrl: string, body: object | null): Promise<void> {
  const res = await fetch(`${engineUrl}/_ref/degradations`, {
    method: body ? 'PUT' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`degrading ${engineUrl}: HTTP ${res.status} ${await res.text()}`);
}

async function openNode(page: Page, host: string): Promise<void> {
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: CLUSTER }).click();
  await page.getByRole('link', { name: host, exact: true }).first().click();
  await expect(page).toHaveURL(/\/nodes\/[a-z0-9]+$/);
}

/** The digest (12 hex) in the engine panel's "Serving" fact, e.g. "deepseek-ai/DeepSeek-V4-Pro@1a2b3c4 FP4+FP8 (0123456789ab)". */
async function servedDigest(page: Page): Promise<string> {
  const text = (await engineFact(page, 'Serving').textContent())!.trim();
  const m = /\(([0-9a-f]{12})\)$/.exec(text);
  expect(m, `serving: ${text}`).toBeTruthy();
  return m![1]!;
}

/** The upgrade run-e2e.ts published: its id, its cluster's id and its digest. */
async function upgradeArtifact(): Promise<{ artifactId: string; clusterId: string; digest: string }> {
  const artifactId = process.env.E2E_PRO_UPGRADE_ARTIFACT_ID;
  expect(artifactId, 'run through src/run-e2e.ts, which publishes the upgrade').toBeTruthy();
  const prisma = createPrismaClient(process.env.E2E_DATABASE_URL!, { max: 1 });
  try {
    const a = await prisma.artifact.findUniqueOrThrow({ where: { id: artifactId! }, select: { digest: true } });
    const c = await prisma.cluster.findUniqueOrThrow({ where: { name: CLUSTER }, select: { id: true } });
    return { artifactId: artifactId!, clusterId: c.id, digest: a.digest };
  } finally {
    await prisma.$disconnect();
  }
}

/** Every state the rollout page's badge shows until it reaches `final` (the page polls every 2 s). */
async function statesUntil(page: Page, final: string, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  await expect
    .poll(
      async () => {
        const s = (await page.getByTestId('rollout-state').first().textContent())?.trim() ?? '';
        if (s && seen.at(-1) !== s) seen.push(s);
        return s;
      },
      { timeout: timeoutMs, intervals: [500] },
    )
    .toBe(final);
  return seen;
}

test("live engines: a new artifact goes from proposal to a second person's approval to a canary and a wave; a degraded canary rolls itself back", async ({
  page,
}, testInfo) => {
  test.setTimeout(420_000);
  const upgrade = await upgradeArtifact();
  const newDigest = upgrade.digest.slice(0, 12);
  await signIn(page, OPERATOR);
  // Both nodes serve the cluster's deployment through their agents' engines, not yet the upgrade.
  const engines = new Map<string, { url: string; servedBefore: string }>();
  for (const host of HOSTS) {
    await openNode(page, host);
    // The panel's first query can take a while on the shared box while the other engines start.
    await expect(engineFact(page, 'State')).toHaveText('ready', { timeout: 30_000 });
    const url = (await engineFact(page, 'Endpoint').textContent())!.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    engines.set(host, { url, servedBefore: await servedDigest(page) });
  }
  const oldDigest = engines.get(HOSTS[0]!)!.servedBefore;
  expect(engines.get(HOSTS[1]!)!.servedBefore).toBe(oldDigest);
  expect(oldDigest).not.toBe(newDigest);
  const traffic = HOSTS.map((h) => driveTraffic(engines.get(h)!.url));
  let degraded: string | null = null;
  try {
    // 1. The new artifact, validated and proposed -> the requester cannot approve -> a second person approves -> roll out.
    const proposalUrl = await proposeOnFreshEvidence(page, CLUSTER, {
      candidate: { clusterId: upgrade.clusterId, artifactId: upgrade.artifactId },
      reason: 'New upstream weights for V4-Pro',
    });
    await approveBySecondPerson(page, proposalUrl);
    await startRollout(page);
    // The plan as it really is on two nodes: a canary and one wave (the policy allows two), each node old -> new.
    await expect(page.getByTestId('rollout-plan')).toContainText('Canary on 1 node, then 1 wave of 1 node');
    const stages = page.getByTestId('stage-view');
    const canaryNode = stages.getByRole('region', { name: 'Canary' }).locator('li[data-testid^="rollout-node-"]');
    const waveNode = stages.getByRole('region', { name: 'Wave 1' }).locator('li[data-testid^="rollout-node-"]');
    await expect(canaryNode).toHaveCount(1);
    await expect(waveNode).toHaveCount(1);
    const canaryHost = (await canaryNode.getAttribute('data-testid'))!.replace('rollout-node-', '');
    const waveHost = (await waveNode.getAttribute('data-testid'))!.replace('rollout-node-', '');
    expect([canaryHost, waveHost].sort()).toEqual(HOSTS);
    for (const host of HOSTS)
      await expect(page.getByTestId(`rollout-node-${host}`).getByTestId('rollout-node-digests')).toHaveText(
        `${oldDigest}… → ${newDigest}…`,
      );

    // The canary's analysis window is on screen while it runs: its checks with their measured values and charts.
    await expect(page.getByTestId('analysis-0-1')).toContainText('passed', { timeout: 150_000 });
    await expect(page.getByRole('figure', { name: 'TTFT p99 per check against its threshold' })).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('rollout-live-canary.png'), fullPage: true });
    // Then the wave: its node loads, and its own window passes.
    await expect(page.getByTestId('analysis-1-1')).toContainText('passed', { timeout: 150_000 });
    const seen = await statesUntil(page, 'succeeded', 120_000);
    testInfo.annotations.push({ type: 'states seen', description: seen.join(' -> ') });
    await expect(page.getByTestId('analysis-0-2')).toContainText('passed');
    await expect(page.getByTestId('analysis-1-2')).toContainText('passed');
    for (const host of HOSTS) await expect(page.getByTestId(`rollout-node-${host}`)).toContainText('serving');
    await page.screenshot({ path: testInfo.outputPath('rollout-live-succeeded.png'), fullPage: true });

    // Each node page: the agent reports its engine serving the new digest.
    for (const host of HOSTS) {
      await openNode(page, host);
      await expect(engineFact(page, 'Serving')).toHaveText(new RegExp(`\\(${newDigest}\\)$`));
      await expect(page.getByTestId('engine-panel').getByTestId('drift-badge')).toHaveText('serves desired');
    }
    await page.screenshot({ path: testInfo.outputPath('rollout-live-node-after.png'), fullPage: true });

    // 2. The next rollout's canary gets slow (the engine's own admin route, as a demo user would degrade it).
    // A re-validated proposal of the same artifact: its canary runs the slow engine while the wave node stays fast.
    degraded = engines.get(canaryHost)!.url;
    await setDegradations(degraded, { addedLatencyMs: DEGRADED_TTFT_MS });
    const second = await proposeOnFreshEvidence(page, CLUSTER, {
      candidate: { clusterId: upgrade.clusterId, artifactId: upgrade.artifactId },
      reason: 'Re-roll after the engine change',
    });
    await approveBySecondPerson(page, second);
    await startRollout(page);
    const seenBad = await statesUntil(page, 'rolled back', 150_000);
    testInfo.annotations.push({ type: 'states seen (degraded)', description: seenBad.join(' -> ') });
    await expect(page.getByTestId('rollout-reason')).toContainText('canary analysis failed');
    await expect(page.getByTestId('rollout-reason')).toContainText('TTFT p99');
    const failedCheck = page.getByTestId('analysis-0-1');
    await expect(failedCheck).toContainText('failed');
    await expect(failedCheck).toContainText(/TTFT p99 [\d.]+ s > limit 1\.5 s/);
    await expect(page.getByText(/^Analysis failed: Canary check 1: TTFT p99/)).toBeVisible();
    await expect(page.getByTestId(`rollout-node-${canaryHost}`)).toContainText('rolled back');
    // The wave was never touched.
    await expect(page.getByTestId(`rollout-node-${waveHost}`)).not.toContainText('load:');
    await page.screenshot({ path: testInfo.outputPath('rollout-live-rolled-back.png'), fullPage: true });

    await openNode(page, canaryHost);
    await expect(engineFact(page, 'Serving')).toHaveText(new RegExp(`\\(${newDigest}\\)$`));
  } finally {
    if (degraded) await setDegradations(degraded, null);
    const finished = await Promise.all(traffic.map((t) => t.stop()));
    testInfo.annotations.push({ type: 'requests per node', description: finished.join(', ') });
  }
});
